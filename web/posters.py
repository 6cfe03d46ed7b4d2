"""A station's QR code and poster for staff to download."""
import io

from flask import Blueprint, Response

from qr import codes, posters
from qr.links import station_url
from web.auth import staff_required, visible_station

bp = Blueprint("qr", __name__)

MEDIA = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def download(data: bytes | str, kind: str, filename: str) -> Response:
    return Response(data, mimetype=MEDIA[kind],
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


@bp.get("/stations/<code>/qr.<any(png, svg):kind>")
@staff_required()
def qr_code(code: str, kind: str):
    station = visible_station(code)
    url = station_url(station)
    return download(codes.png(url) if kind == "png" else codes.svg(url), kind, f"{code}-qr.{kind}")


@bp.get("/stations/<code>/poster.<any(png, pdf, svg):kind>")
@staff_required()
def poster(code: str, kind: str):
    station = visible_station(code)
    shapes = posters.layout(station, station_url(station))
    if kind == "png":
        data = posters.png(shapes)
    elif kind == "svg":
        data = posters.svg(shapes)
    else:
        out = io.BytesIO()
        posters.pdf([shapes], out)
        data = out.getvalue()
    return download(data, kind, f"{code}-poster.{kind}")
