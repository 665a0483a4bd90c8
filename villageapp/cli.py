"""The `villageapp` command: everything an operator does (towns, villages, accounts, imports,
migrations, the demo county and production serving)."""
import os

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import store


def _create_app():
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main():
    """villageapp: 村务通 operations. Data lives in the instance folder (VILLAGEAPP_INSTANCE_PATH)."""


def init_app(app):
    from .exports.command import export
    from .shards import command as shards_command
    for command in (migrate, add_town, add_village, add_user, import_residents, demo, serve, backup, restore, replicate, export, shards_command()):
        app.cli.add_command(command)


@click.command("migrate")
@with_appcontext
def migrate():
    """Create or upgrade the directory and every town file."""
    directory = store.open_directory()
    for town in directory["towns"].rows:
        if os.path.exists(store.town_path(town["code"])):
            store.open_town(town["code"]).close()
            click.echo(f"{town['code']} {town['name']}: up to date")
        else:
            click.echo(f"{town['code']} {town['name']}: file missing ({store.town_path(town['code'])})", err=True)


@click.command("add-town")
@click.argument("code")
@click.argument("name")
@with_appcontext
def add_town(code, name):
    """Add a town: CODE is its 9-digit 区划代码, e.g. 610922101 饶峰镇."""
    from .clock import now_iso
    if not store.TOWN_CODE.match(code):
        raise click.BadParameter("town code must be 9 digits", param_hint="CODE")
    directory = store.open_directory()
    directory["towns"].insert({"code": code, "name": name, "created_at": now_iso()}, ignore=True)
    store.create_town_store(code).close()
    click.echo(f"town {code} {name}: {store.town_path(code)}")


@click.command("add-village")
@click.argument("code")
@click.argument("name")
@click.option("--community", is_flag=True, help="a 社区 (community) rather than a 村")
@click.option("--model", is_flag=True, help="a 示范村 (model village)")
@with_appcontext
def add_village(code, name, community, model):
    """Add a village: CODE is its 12-digit 区划代码, starting with its town's code."""
    from . import registry
    if not store.VILLAGE_CODE.match(code):
        raise click.BadParameter("village code must be 12 digits", param_hint="CODE")
    try:
        db = store.open_town(code[:9])
    except FileNotFoundError:
        raise click.ClickException(f"no town {code[:9]}: add it first with add-town") from None
    registry.add_village(db, code, name, "cli", kind="社区" if community else "村", model=model)
    click.echo(f"village {code} {name}")


@click.command("add-user")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["county", "town", "cadre", "adviser"]), required=True)
@click.option("--town", "town_code", help="town code (town staff, cadres, advisers)")
@click.option("--village", "villages", multiple=True, help="village code (cadre: one; adviser: one or more)")
@click.option("--position", type=click.Choice(["书记", "主任", "委员", "监委会"]))
@click.password_option()
@with_appcontext
def add_user(username, name, role, town_code, villages, position, password):
    """Add an account (the first county admin, for instance)."""
    from .auth import create_user
    if role != "county" and not town_code:
        raise click.UsageError("--town is required for this role")
    create_user(store.open_directory(), username, password, name, role, "cli", town_code=town_code,
                villages=villages, position=position)
    click.echo(f"user {username} ({role})")


@click.command("import")
@click.argument("village")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_residents(village, path):
    """Import households and residents of VILLAGE from a CSV (UTF-8 or GBK) or XLSX file. All rows or none."""
    from .registry import imports
    db = store.open_town(village[:9])
    with open(path, "rb") as f:
        report = imports.import_file(db, village, os.path.basename(path), f.read(), "cli")
    for row in report.rejected:
        click.echo(f"第 {row.line} 行：{'；'.join(row.reasons)}", err=True)
    if report.rejected or report.error:
        raise click.ClickException(report.error or f"{len(report.rejected)} 行有问题，什么都没有导入")
    click.echo(f"导入 {report.households} 户，{report.residents} 人")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@with_appcontext
def backup(dest):
    """Copy directory.db and every town file into DEST (a new or empty folder) while the app runs: each file as of
    one instant, writers keep going, every copy checked (integrity_check) before it is kept."""
    from . import backup as backups
    try:
        manifest = backups.backup(current_app.instance_path, dest, log=click.echo)
    except backups.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"backup of {len(manifest['files'])} files in {dest} (started {manifest['started_at']})")


@click.command("restore")
@click.argument("src", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--from-replica", is_flag=True, help="rebuild from REPLICA_URL (what `villageapp replicate` streamed)")
@click.option("--force", is_flag=True, help="replace the data already in the instance folder (kept aside)")
@with_appcontext
def restore(src, from_replica, force):
    """Put the files of the backup folder SRC (or, with --from-replica, of the replica) into the instance folder.
    Stop the server and `villageapp replicate` first. Every file is checked before anything is replaced; an instance
    that has data is replaced only with --force, its files kept aside in before-restore-<time>/."""
    from . import backup as backups
    from . import replicate as replication
    if bool(src) == from_replica:
        raise click.UsageError("give either a backup folder SRC or --from-replica")
    try:
        if from_replica:
            replication.restore(current_app.instance_path, current_app.config, force=force, log=click.echo)
        else:
            backups.restore(src, current_app.instance_path, force=force, log=click.echo)
    except backups.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"restored into {current_app.instance_path}; start the server again")


@click.command("replicate")
@click.option("--print-config", is_flag=True, help="print the generated Litestream configuration and exit")
@with_appcontext
def replicate(print_config):
    """Stream directory.db and every town file to REPLICA_URL with Litestream until stopped (a town added later is
    picked up within seconds). Run it beside `villageapp serve`, e.g. as its own systemd unit."""
    from . import replicate as replication
    try:
        if print_config:
            with open(replication.write_config(current_app.instance_path, current_app.config), encoding="utf-8") as f:
                click.echo(f.read())
            return
        replication.run(current_app.instance_path, current_app.config, log=click.echo)
    except replication.ReplicaError as e:
        raise click.ClickException(str(e)) from None


@click.command("demo")
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-serve", is_flag=True, help="only build the demo data")
@click.option("--county", is_flag=True, help="a county-size instance instead (villageapp/county.py; minutes to build)")
@click.option("--towns", default=11, show_default=True, type=click.IntRange(2, 11), help="with --county")
@click.option("--villages", default=15, show_default=True, type=click.IntRange(2, 99), help="with --county: per town")
@click.option("--households", default=300, show_default=True, type=click.IntRange(5), help="with --county: per village")
@click.option("--years", default=2, show_default=True, type=click.IntRange(1, 5), help="with --county: of minutes")
@with_appcontext
def demo(port, host, no_serve, county, towns, villages, households, years):
    """Build the demo county (once; running again adds nothing) and serve it."""
    from . import demo as demo_data
    app = current_app._get_current_object()
    click.echo(f"demo data in {app.instance_path}")
    if county:
        from . import county as county_data
        logins = county_data.build(app, towns=towns, villages=villages, households=households, years=years,
                                   log=click.echo)
    else:
        logins = demo_data.build(app, log=click.echo)
    click.echo("\n演示账号 (demo logins):")
    for username, password, role, name in logins:
        click.echo(f"  {username:<10} {password}   {name}")
    click.echo(f"\n打开 http://{host}:{port}/login 用上面的账号登录。")
    click.echo("\n公开页 (public page, no login): "
               f"http://{host}:{port}/v/{demo_data.TOWNS[1][2][0][0]}/")
    if not no_serve:
        _serve(app, host, port)


@click.command("serve")
@click.option("--port", default=8000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--server", type=click.Choice(["gunicorn", "waitress"]),
              help="default: gunicorn where it can run (Linux, macOS), else waitress")
@click.option("--workers", type=click.IntRange(1), help="gunicorn's worker processes  [default: one per core]")
@click.option("--threads", type=click.IntRange(1), help="threads per process  [default: 4 with gunicorn, 8 with waitress]")
@click.option("--towns", default="", help="serve only these towns (9-digit codes, comma-separated); the others answer 404 "
              "here (towns as shards: docs/scaling.md)  [default: every town, or the TOWNS setting]")
@with_appcontext
def serve(port, host, server, workers, threads, towns):
    """Serve the app in production: gunicorn workers × threads (every core), or waitress."""
    app = current_app._get_current_object()
    if towns:
        codes = [code.strip() for code in towns.split(",") if code.strip()]
        known = {t["code"] for t in store.open_directory()["towns"].rows}
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise click.BadParameter(f"no such town here: {', '.join(unknown)}", param_hint="--towns")
        app.config["TOWNS"] = ",".join(codes)
    _serve(app, host, port, threads, server=server, workers=workers)


def _serve(app, host, port, threads=None, server=None, workers=None):
    from . import serving
    serving.run(app, host, port, server=server, workers=workers, threads=threads)
