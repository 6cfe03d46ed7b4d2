"""Charts drawn on the server as SVG geometry: bars of ratings and a line of satisfaction, where
a period without ratings is a gap in the line, never a drop to zero."""


def rate_and_count(points: list[dict], label_key: str, width: int = 320, height: int = 150) -> dict:
    """Geometry for ``points`` ({label_key, ratings_total, satisfaction_rate}): a bar per
    period, the satisfaction line in segments broken where a period had no ratings, and axes
    (0, 50 and 100% on the left; the first and last period below)."""
    left, right, top, bottom = 34, 6, 8, height - 22
    most = max((p["ratings_total"] for p in points), default=0) or 1
    step = (width - left - right) / max(len(points), 1)
    bars, segments, current = [], [], []
    for i, point in enumerate(points):
        x = left + i * step
        h = (bottom - top) * point["ratings_total"] / most
        bars.append({"x": round(x + 1, 1), "y": round(bottom - h, 1), "w": round(step - 2, 1),
                     "h": round(h, 1), "label": point[label_key], "count": point["ratings_total"]})
        if point["satisfaction_rate"] is None:
            if current:
                segments.append(current)
            current = []
            continue
        y = bottom - (bottom - top) * point["satisfaction_rate"]
        current.append((round(x + step / 2, 1), round(y, 1)))
    if current:
        segments.append(current)
    return {"width": width, "height": height, "left": left, "right": right, "top": top,
            "bottom": bottom, "bars": bars, "most": most,
            "lines": [" ".join(f"{x},{y}" for x, y in segment) for segment in segments if len(segment) > 1],
            "dots": [xy for segment in segments for xy in segment],
            "ticks": [(round(bottom - (bottom - top) * f, 1), f"{int(f * 100)}%") for f in (0, 0.5, 1)],
            "first": points[0][label_key] if points else "", "last": points[-1][label_key] if points else ""}
