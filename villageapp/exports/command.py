"""`villageapp export TOWN LIST --format csv|xlsx|zip [filters]`: the same files as the town's export pages, from the
command line (for a county report run by cron, or a town whose staff cannot download on a slow line)."""
import contextlib
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import kinds, store
from ..audit import fields
from ..audit import record as audit
from . import files
from .filters import FilterRefused, parse
from .responses import own_store


@click.command("export")
@click.argument("town")
@click.argument("name", metavar="LIST")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "zip"]), default="csv", show_default=True,
              help="zip: the list's photos (LIST archive: always a zip)")
@click.option("--village", default="", help="a village code of the town")
@click.option("--period", default="", help="a quarter 2026-3 or a year 2026")
@click.option("--start", default="", help="first day, 2026-01-31")
@click.option("--end", default="", help="last day, 2026-03-31")
@click.option("--filter", "choices", multiple=True, metavar="KEY=VALUE", help="the list's own filters, e.g. state=draft")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="file to write (default: stdout)")
@with_appcontext
def export(town, name, fmt, village, period, start, end, choices, output):
    """Export LIST of TOWN (a list name as in /t/<town>/exports/<name>, or `archive` for the whole town)."""
    towns = {t["code"]: t for t in store.open_directory()["towns"].rows}
    if town not in towns or not os.path.exists(store.town_path(town)):
        raise click.BadParameter(f"no town {town} in this instance", param_hint="TOWN")
    db = store.open_town(town)
    if name == "archive":
        with store.write(db):
            audit(db, "system", "export", "exports", "archive", None, summary="导出全镇数据包（命令行）")
        db.close()
        _write(files.archive_chunks(towns[town], store.town_path(town), current_app.instance_path, fields()), output)
        return
    listings = kinds.registry().listings()
    if name not in listings:
        raise click.BadParameter(f"lists: {', '.join(listings)}, archive", param_hint="LIST")
    listing = listings[name]
    if fmt == "zip" and listing.photos is None:
        raise click.BadParameter(f"{name} has no photos", param_hint="--format")
    args = {"village": village, "period": period, "start": start, "end": end}
    for choice in choices:
        key, _, value = choice.partition("=")
        if key not in listing.choices:
            raise click.BadParameter(f"{name} filters: {', '.join(listing.choices) or 'none'}", param_hint="--filter")
        args[key] = value
    villages = {v["code"]: v["name"] for v in db.query("select code, name from villages order by code")}
    try:
        filters, description, _given = parse(listing, args, villages)
    except FilterRefused as refused:
        raise click.BadParameter(str(refused)) from None
    with store.write(db):
        audit(db, "system", "export", "exports", listing.name, filters["village_code"],
              summary=f"导出 {listing.label}（{fmt}，命令行），筛选：{description}")
    db.close()
    if fmt == "zip":
        chunks = own_store(town, lambda db: files.photo_chunks(db, listing, filters, villages))
    else:
        chunks = own_store(town, lambda db: files.table_chunks(db, listing, filters, fmt, "命令行", description))
    _write(chunks, output)


def _write(chunks, output):
    with open(output, "wb") if output else contextlib.nullcontext(sys.stdout.buffer) as target:
        for chunk in chunks:
            target.write(chunk)
        target.flush()
