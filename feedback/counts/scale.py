"""The rating scale of the contract, and the satisfaction rate."""
from operator import itemgetter
from typing import Mapping

SCORES = (5, 4, 3, 2, 1)  # the order the form shows them: best first

LABELS = {
    "zh": {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"},
    "en": {5: "Very satisfied", 4: "Satisfied", 3: "Basically satisfied",
           2: "Dissatisfied", 1: "Very dissatisfied"},
}

# How each level's face is drawn, in a 24×24 box: its colour, and its mouth as a quadratic
# curve (start, control, end). The form and the posters both draw from this.
FACES = {
    5: ("#2e9d4f", ((6.5, 13.5), (12, 19.5), (17.5, 13.5))),
    4: ("#8bc34a", ((7.5, 14.5), (12, 18), (16.5, 14.5))),
    3: ("#f4c20d", ((8, 15.5), (12, 15.5), (16, 15.5))),
    2: ("#fb8c00", ((8, 16.5), (12, 13.5), (16, 16.5))),
    1: ("#e53935", ((7, 17.5), (12, 12), (17, 17.5))),
}
FACE_EYES = ((8.5, 9.5), (15.5, 9.5))
FACE_EYE_RADIUS = 1.4

SATISFIED_FROM = 3  # 3, 4 and 5 count as satisfied


def is_bad(score: int) -> bool:
    """A bad rating is one scored 1 or 2."""
    return score < SATISFIED_FROM


def counts_from_row(row: Mapping) -> dict[int, int]:
    """The n1..n5 columns of a rollup row as {score: count}."""
    return {score: row[f"n{score}"] or 0 for score in range(1, 6)}  # None: no rollup row yet


def counts_of_rows(rows: list[Mapping]) -> dict[int, int]:
    """The n1..n5 columns of several rollup rows added up, as {score: count} (a nation's
    monthly report adds up 8,400 groups three times: no dict a row, and the loop in C)."""
    return {score: sum(filter(None, map(itemgetter(f"n{score}"), rows))) for score in range(1, 6)}


def satisfaction_rate(counts: Mapping[int, int]) -> float | None:
    """The share of ratings scored 3 or more, from 0 to 1; None when there are none."""
    total = sum(counts.values())
    if total == 0:
        return None
    return sum(n for score, n in counts.items() if score >= SATISFIED_FROM) / total


def mean_score(counts: Mapping[int, int]) -> float | None:
    """The mean score; None when there are none."""
    total = sum(counts.values())
    if total == 0:
        return None
    return sum(score * n for score, n in counts.items()) / total


def mouth_path(score: int) -> str:
    """The SVG path of a face's mouth, in its 24×24 box."""
    (x0, y0), (cx, cy), (x1, y1) = FACES[score][1]
    return f"M{x0} {y0}Q{cx} {cy} {x1} {y1}"
