"""`qr posters`: print-ready posters with each station's QR code."""
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext

import click
from flask.cli import AppGroup

from feedback.places import stations
from feedback.progress import Progress
from feedback.storage.db import get_db
from qr import posters
from qr.links import station_url

qr_cli = AppGroup("qr", help="QR codes and posters.")

FORMATS = ("png", "pdf", "svg")


def write_poster(job: tuple) -> str:
    """Make one poster file; runs in a worker process."""
    station, url, path, kind = job
    shapes = posters.layout(station, url)
    if kind == "png":
        data = posters.png(shapes)
    else:
        data = posters.svg(shapes).encode()
    with open(path, "wb") as out:
        out.write(data)
    return path


def chosen_stations(codes: tuple[str, ...]) -> list[dict]:
    """The stations named, in the order named, or every listed station; unknown codes are an error."""
    db = get_db()
    if not codes:
        return list(db.query("SELECT * FROM stations WHERE status = 'listed' ORDER BY code"))
    found = {code: stations.get(db, code) for code in dict.fromkeys(codes)}
    unknown = [code for code, station in found.items() if station is None]
    if unknown:
        raise click.BadParameter(f"no station with code {', '.join(map(repr, unknown))}",
                                 param_hint="--station")
    return list(found.values())


@qr_cli.command("posters")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the posters; made when missing.")
@click.option("--station", "codes", multiple=True, help="A station code; repeat for more. "
              "Without it, every listed station.")
@click.option("--format", "kind", type=click.Choice(FORMATS), default="png", show_default=True,
              help="png and svg: a file per station; pdf: one file with a page per station.")
def posters_command(out_dir: str, codes: tuple[str, ...], kind: str):
    """Make print-ready A5 posters with each station's QR code."""
    chosen = chosen_stations(codes)
    if not chosen:
        raise click.ClickException("there are no listed stations to make posters for")
    os.makedirs(out_dir, exist_ok=True)
    progress = Progress("posters", total=len(chosen))

    def counted(items):
        for number, item in enumerate(items, start=1):
            yield item
            progress.update(number)
        progress.finish()

    if kind == "pdf":
        path = os.path.join(out_dir, "posters.pdf")
        shape_lists = (posters.layout(station, station_url(station)) for station in chosen)
        with open(path, "wb") as out:
            pages = posters.pdf(counted(shape_lists), out)
        click.echo(f"{pages} poster(s) in {path}")
        return

    jobs = [(dict(station), station_url(station),
             os.path.join(out_dir, f"{station['code']}.{kind}"), kind) for station in chosen]
    workers = min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        made = pool.map(write_poster, jobs, chunksize=4) if pool else map(write_poster, jobs)
        for _ in counted(made):
            pass
    click.echo(f"{len(jobs)} poster(s) in {out_dir}")
