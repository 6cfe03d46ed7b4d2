"""Print-ready A5 posters: a layout made of plain shapes, drawn to PNG, PDF or SVG.

The layout is computed once (``layout``) and each format only draws it, so the PNG, the PDF page
and the SVG show the same poster. Text is Noto Sans CJK SC from the noto-cjk-sans-otc package:
rasterised by FreeType for PNG and PDF, and as glyph outlines in SVG, so a print shop needs no font.
"""
import io
from dataclasses import dataclass
from functools import lru_cache

import noto_cjk_sans_otc
from fontTools.pens.basePen import BasePen
from fontTools.pens.svgPathPen import SVGPathPen
from PIL import Image, ImageDraw, ImageFont

from feedback.counts.scale import FACE_EYE_RADIUS, FACE_EYES, FACES, LABELS, SCORES
from qr import codes
from qr.pdf import PdfWriter

DPI = 300
PT_PER_PX = 72 / DPI
A5_PT = (148 / 25.4 * 72, 210 / 25.4 * 72)
WIDTH, HEIGHT = 1748, 2480  # A5 (148 × 210 mm) at 300 dpi
MARGIN = 100
FONT_INDEX = 2  # Simplified Chinese in the collection
HEADLINE = ("对驿站服务满意吗?", "请您扫码评价")
TIER_NAMES = {"city": "市级驿站", "provincial": "省级驿站", "national": "国家级驿站"}
QR_WIDTH = 1181  # 100 mm with the quiet zone; the printed code is at least 60 mm wide
RED, INK, GREY, WHITE = "#c62828", "#1d1d1d", "#555555", "#ffffff"


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    fill: str


@dataclass(frozen=True)
class Text:
    """One line of text, centred on ``x``, standing on ``baseline``."""
    x: int
    baseline: int
    text: str
    size: int
    fill: str
    bold: bool = False


@dataclass(frozen=True)
class Code:
    x: int
    y: int
    module_px: int
    modules: tuple


@dataclass(frozen=True)
class Face:
    cx: int
    cy: int
    r: int
    score: int


@lru_cache(maxsize=1)
def outline_font():
    """The font's outlines and metrics (fontTools), loaded once per process."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(noto_cjk_sans_otc.FONT_PATH), fontNumber=FONT_INDEX, lazy=True)
    return font, font.getBestCmap(), font.getGlyphSet(), font["head"].unitsPerEm


@lru_cache(maxsize=32)
def pillow_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(noto_cjk_sans_otc.FONT_PATH), size, index=FONT_INDEX)


def text_width(text: str, size: int) -> float:
    """The advance width of ``text`` at ``size`` px, from the font's own metrics."""
    _, cmap, glyphs, units = outline_font()
    return sum(glyphs[cmap.get(ord(ch), ".notdef")].width for ch in text) * size / units


def fitted(text: str, size: int, smallest: int, width: int) -> tuple[str, int]:
    """Shrink ``text`` until it fits ``width``; past ``smallest``, cut it with an ellipsis."""
    while size > smallest and text_width(text, size) > width:
        size -= 4
    while text_width(text, size) > width and len(text) > 1:
        text = text[:-2] + "…"
    return text, size


@lru_cache(maxsize=1)
def background() -> tuple:
    """The shapes every poster shares: the headline band and the five faces of the scale."""
    middle = WIDTH // 2
    shapes = [
        Box(0, 0, WIDTH, HEIGHT, WHITE),
        Box(0, 0, WIDTH, 560, RED),
        Text(middle, 240, HEADLINE[0], 150, WHITE, bold=True),
        Text(middle, 450, HEADLINE[1], 150, WHITE, bold=True),
    ]
    column = WIDTH // len(SCORES)
    for index, score in enumerate(SCORES):
        cx = column * index + column // 2
        shapes.append(Face(cx, 2220, 90, score))
        label, label_size = fitted(LABELS["zh"][score], 44, 28, column - 20)
        shapes.append(Text(cx, 2380, label, label_size, INK))
    return tuple(shapes)


def layout(station: dict, url: str) -> list:
    """The poster of one station as shapes on a WIDTH × HEIGHT page."""
    middle = WIDTH // 2
    inner = WIDTH - 2 * MARGIN
    name, name_size = fitted(station["name"], 96, 52, inner)
    details = " · ".join([station["district"], station["code"],
                          TIER_NAMES.get(station["tier"], station["tier"])])
    details, details_size = fitted(details, 54, 36, inner)
    link, link_size = fitted(url, 40, 24, inner)
    modules = tuple(tuple(row) for row in codes.matrix(url))
    module_px = QR_WIDTH // len(modules)
    code_px = module_px * len(modules)
    code_top = 860
    return [
        *background(),
        Text(middle, 700, name, name_size, INK, bold=True),
        Text(middle, 800, details, details_size, GREY),
        Code(middle - code_px // 2, code_top, module_px, modules),
        Text(middle, code_top + code_px + 40, link, link_size, INK),
    ]


def quad_points(start, control, end, steps: int = 24):
    """Points along a quadratic curve."""
    return [((1 - t) ** 2 * start[0] + 2 * (1 - t) * t * control[0] + t * t * end[0],
             (1 - t) ** 2 * start[1] + 2 * (1 - t) * t * control[1] + t * t * end[1])
            for t in (i / steps for i in range(steps + 1))]


def draw_png(shapes: list) -> Image.Image:
    """Draw the shapes on an RGB page; the shared background is drawn once per process."""
    shared = background()
    if tuple(shapes[:len(shared)]) == shared:
        page = background_image().copy()
        draw_shapes(page, shapes[len(shared):])
    else:
        page = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
        draw_shapes(page, shapes)
    return page


@lru_cache(maxsize=1)
def background_image() -> Image.Image:
    page = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw_shapes(page, background())
    return page


def draw_shapes(page: Image.Image, shapes) -> None:
    draw = ImageDraw.Draw(page)
    for shape in shapes:
        if isinstance(shape, Box):
            draw.rectangle((shape.x, shape.y, shape.x + shape.w - 1, shape.y + shape.h - 1),
                           fill=shape.fill)
        elif isinstance(shape, Text):
            left = shape.x - text_width(shape.text, shape.size) / 2
            draw.text((left, shape.baseline), shape.text, font=pillow_font(shape.size),
                      fill=shape.fill, anchor="ls",
                      stroke_width=shape.size // 40 if shape.bold else 0, stroke_fill=shape.fill)
        elif isinstance(shape, Code):
            page.paste(codes.image(shape.modules, shape.module_px).convert("RGB"),
                       (shape.x, shape.y))
        elif isinstance(shape, Face):
            unit = shape.r / 12  # the face's 24-unit box spans 2r
            x0, y0 = shape.cx - shape.r, shape.cy - shape.r
            draw.ellipse((x0 + unit, y0 + unit, x0 + 23 * unit, y0 + 23 * unit),
                         fill=FACES[shape.score][0])
            eye = FACE_EYE_RADIUS * unit
            for ex, ey in FACE_EYES:
                draw.ellipse((x0 + ex * unit - eye, y0 + ey * unit - eye,
                              x0 + ex * unit + eye, y0 + ey * unit + eye), fill="#000")
            mouth = [(x0 + x * unit, y0 + y * unit) for x, y in quad_points(*FACES[shape.score][1])]
            draw.line(mouth, fill="#000", width=round(1.6 * unit), joint="curve")


def png(shapes: list) -> bytes:
    """The poster as a PNG that prints at A5 (300 dpi recorded in the file)."""
    buffer = io.BytesIO()
    # fast settings: posters are made by the hundred, and harder work saves little here
    draw_png(shapes).save(buffer, "PNG", dpi=(DPI, DPI), compress_level=1, compress_type=3)
    return buffer.getvalue()


def pdf(shape_lists, out, title: str = "驿站评价二维码海报") -> int:
    """Write one PDF to the binary file ``out``, a vector A5 page per poster; returns the pages."""
    writer = PdfWriter(out, title)
    for shapes in shape_lists:
        writer.add_page(pdf_content(shapes), A5_PT[0], A5_PT[1])
    writer.close()
    return len(writer.page_ids)


def rgb(colour: str) -> str:
    """'#rrggbb' as PDF colour components."""
    return " ".join(f"{int(colour[i:i + 2], 16) / 255:.3f}" for i in (1, 3, 5))


class PdfPathPen(BasePen):
    """Glyph outlines as PDF path operators."""

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.ops = []

    def _moveTo(self, point):
        self.ops.append(f"{point[0]:g} {point[1]:g} m")

    def _lineTo(self, point):
        self.ops.append(f"{point[0]:g} {point[1]:g} l")

    def _curveToOne(self, p1, p2, p3):
        self.ops.append(f"{p1[0]:g} {p1[1]:g} {p2[0]:g} {p2[1]:g} {p3[0]:g} {p3[1]:g} c")

    def _closePath(self):
        self.ops.append("h")


@lru_cache(maxsize=4096)
def pdf_glyph(char: str) -> tuple[str, float]:
    """A character's outline as PDF path operators in font units, and its advance."""
    _, cmap, glyphs, _ = outline_font()
    glyph = glyphs[cmap.get(ord(char), ".notdef")]
    pen = PdfPathPen(glyphs)
    glyph.draw(pen)
    return " ".join(pen.ops), glyph.width


def pdf_circle(cx: float, cy: float, r: float) -> str:
    """A circle as four cubic curves."""
    k = 0.5523 * r
    return (f"{cx + r:.2f} {cy:.2f} m {cx + r:.2f} {cy + k:.2f} {cx + k:.2f} {cy + r:.2f} "
            f"{cx:.2f} {cy + r:.2f} c {cx - k:.2f} {cy + r:.2f} {cx - r:.2f} {cy + k:.2f} "
            f"{cx - r:.2f} {cy:.2f} c {cx - r:.2f} {cy - k:.2f} {cx - k:.2f} {cy - r:.2f} "
            f"{cx:.2f} {cy - r:.2f} c {cx + k:.2f} {cy - r:.2f} {cx + r:.2f} {cy - k:.2f} "
            f"{cx + r:.2f} {cy:.2f} c h")


def pdf_content(shapes: list) -> bytes:
    """The drawing operators of one poster page, in pixel units with y down."""
    _, _, _, units = outline_font()
    # from pixels (y down) to points (y up)
    ops = [f"{PT_PER_PX:.4f} 0 0 {-PT_PER_PX:.4f} 0 {HEIGHT * PT_PER_PX:.2f} cm"]
    for shape in shapes:
        if isinstance(shape, Box):
            ops.append(f"{rgb(shape.fill)} rg {shape.x} {shape.y} {shape.w} {shape.h} re f")
        elif isinstance(shape, Text):
            scale = shape.size / units
            x = shape.x - text_width(shape.text, shape.size) / 2
            paint = "B" if shape.bold else "f"
            ops.append(f"q {rgb(shape.fill)} rg {rgb(shape.fill)} RG {units / 40:.0f} w 1 j")
            for char in shape.text:
                path, advance = pdf_glyph(char)
                if path:
                    ops.append(f"q {scale:.5f} 0 0 {-scale:.5f} {x:.2f} {shape.baseline} cm "
                               f"{path} {paint} Q")
                x += advance * scale
            ops.append("Q")
        elif isinstance(shape, Code):
            m = shape.module_px
            ops.append("0 0 0 rg " + " ".join(
                f"{shape.x + col * m} {shape.y + row * m} {m} {m} re"
                for row, line in enumerate(shape.modules) for col, dark in enumerate(line) if dark)
                + " f")
        elif isinstance(shape, Face):
            unit = shape.r / 12
            x0, y0 = shape.cx - shape.r, shape.cy - shape.r
            ops.append(f"{rgb(FACES[shape.score][0])} rg {pdf_circle(shape.cx, shape.cy, 11 * unit)} f")
            ops.append("0 0 0 rg " + " ".join(
                pdf_circle(x0 + ex * unit, y0 + ey * unit, FACE_EYE_RADIUS * unit) for ex, ey in FACE_EYES)
                + " f")
            (sx, sy), (qx, qy), (ex, ey) = FACES[shape.score][1]
            # the quadratic mouth as the equivalent cubic
            c1 = (sx + 2 / 3 * (qx - sx), sy + 2 / 3 * (qy - sy))
            c2 = (ex + 2 / 3 * (qx - ex), ey + 2 / 3 * (qy - ey))
            points = [(x0 + px * unit, y0 + py * unit) for px, py in ((sx, sy), c1, c2, (ex, ey))]
            ops.append(f"0 0 0 RG {1.6 * unit:.2f} w 1 J {points[0][0]:.2f} {points[0][1]:.2f} m "
                       + " ".join(f"{px:.2f} {py:.2f}" for px, py in points[1:]) + " c S")
    return "\n".join(ops).encode()


def svg_text(shape: Text) -> str:
    """A line of text as glyph outlines, so the SVG needs no installed font."""
    _, cmap, glyphs, units = outline_font()
    scale = shape.size / units
    x = shape.x - text_width(shape.text, shape.size) / 2
    parts = []
    for ch in shape.text:
        glyph = glyphs[cmap.get(ord(ch), ".notdef")]
        pen = SVGPathPen(glyphs)
        glyph.draw(pen)
        if pen.getCommands():
            parts.append(f'<path transform="translate({x:.1f} {shape.baseline}) '
                         f'scale({scale:.4f} {-scale:.4f})" d="{pen.getCommands()}"/>')
        x += glyph.width * scale
    stroke = (f' stroke="{shape.fill}" stroke-width="{units / 40:.0f}" stroke-linejoin="round"'
              if shape.bold else "")
    return f'<g fill="{shape.fill}"{stroke}>{"".join(parts)}</g>'


def svg(shapes: list) -> str:
    """The poster as an A5 SVG document."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="148mm" height="210mm" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}">']
    for shape in shapes:
        if isinstance(shape, Box):
            out.append(f'<rect x="{shape.x}" y="{shape.y}" width="{shape.w}" height="{shape.h}" '
                       f'fill="{shape.fill}"/>')
        elif isinstance(shape, Text):
            out.append(svg_text(shape))
        elif isinstance(shape, Code):
            out.append(f'<path transform="translate({shape.x} {shape.y}) scale({shape.module_px})" '
                       f'shape-rendering="crispEdges" d="{codes.svg_path(shape.modules)}"/>')
        elif isinstance(shape, Face):
            unit = shape.r / 12
            out.append(f'<g transform="translate({shape.cx - shape.r} {shape.cy - shape.r}) '
                       f'scale({unit:.4f})"><circle cx="12" cy="12" r="11" '
                       f'fill="{FACES[shape.score][0]}"/>')
            out.extend(f'<circle cx="{x}" cy="{y}" r="{FACE_EYE_RADIUS}"/>' for x, y in FACE_EYES)
            (x0, y0), (cx, cy), (x1, y1) = FACES[shape.score][1]
            out.append(f'<path d="M{x0} {y0}Q{cx} {cy} {x1} {y1}" fill="none" stroke="#000" '
                       f'stroke-width="1.6" stroke-linecap="round"/></g>')
    out.append("</svg>")
    return "\n".join(out)
