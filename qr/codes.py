"""QR codes for station links: error correction Q (a poster can lose a quarter to rain and
scratches), a quiet zone of 4 modules."""
import io

import qrcode
import qrcode.constants
from PIL import Image

QUIET_ZONE = 4


def matrix(url: str) -> list[list[bool]]:
    """The code's modules, quiet zone included, row by row (True is dark)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def image(modules: list[list[bool]], module_px: int) -> Image.Image:
    """A crisp black-and-white image of the modules, ``module_px`` pixels each."""
    size = len(modules)
    small = Image.new("1", (size, size), 1)
    small.putdata([0 if dark else 1 for row in modules for dark in row])
    return small.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)


def png(url: str, module_px: int = 10) -> bytes:
    """The QR code of ``url`` as PNG."""
    buffer = io.BytesIO()
    image(matrix(url), module_px).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def svg_path(modules: list[list[bool]]) -> str:
    """The dark modules as one SVG path, one unit per module."""
    return "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(modules)
                   for x, dark in enumerate(row) if dark)


def svg(url: str, module_mm: float = 1.0) -> str:
    """The QR code of ``url`` as a standalone SVG document."""
    modules = matrix(url)
    size = len(modules)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size * module_mm}mm" '
            f'height="{size * module_mm}mm" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path d="{svg_path(modules)}" fill="#000"/></svg>')
