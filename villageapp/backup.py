"""Backing up and restoring an instance folder (directory.db and every towns/<code>.db) while the app runs.

A copy is made with SQLite's online backup API in ONE step (pages=-1) inside a read transaction of the source: it is
the file as it was at one instant, writers go on meanwhile (WAL) and none of them is made to wait or fail. Every
copy is checked (PRAGMA integrity_check) before it is kept. A restore checks every file of the backup before it
touches the instance, and keeps the files it replaces in a before-restore-<time> folder."""
import datetime
import json
import os
import shutil
import sqlite3
import time

from .store import BUSY_TIMEOUT_MS

RETRIES = 20  # a read transaction is refused only in rare moments (a WAL being recovered); try again a little later


class BackupError(Exception):
    """Why a backup or a restore was refused; str() is for the operator."""


def instance_files(folder):
    """The SQLite files of an instance (or a backup) folder, as paths relative to it: directory.db first."""
    out = ["directory.db"] if os.path.exists(os.path.join(folder, "directory.db")) else []
    towns = os.path.join(folder, "towns")
    if os.path.isdir(towns):
        out += [os.path.join("towns", name) for name in sorted(os.listdir(towns)) if name.endswith(".db")]
    return out


def integrity(path):
    """'ok', or what SQLite found wrong (a file that is not a database says so too)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return str(e)
    return "ok" if rows == ["ok"] else "; ".join(rows[:5])


def copy_file(source, target):
    """Copy one SQLite file as of one instant, through the backup API, waiting for (never failing) its writers."""
    last = None
    for attempt in range(RETRIES):
        src = sqlite3.connect(source, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            src.execute("BEGIN")  # one read snapshot: the copy is the file as of this instant
            src.execute("select count(*) from sqlite_master").fetchone()
            src.backup(dst, pages=-1)  # all pages in one step: writers that commit meanwhile cannot restart it
            src.execute("COMMIT")
            dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file, no -wal beside it
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            last = e
            time.sleep(min(0.05 * 2 ** attempt, 2))
        finally:
            src.close()
            dst.close()
    raise BackupError(f"{source}: 一直很忙，没能备份（{last}）")


def backup(instance, dest, log=print):
    """Copy every SQLite file of `instance` into the new or empty folder `dest`. Returns the manifest (a dict)."""
    files = instance_files(instance)
    if "directory.db" not in files:
        raise BackupError(f"{instance} 里没有 directory.db，不是村务通的数据文件夹")
    if os.path.exists(dest) and os.listdir(dest):
        raise BackupError(f"{dest} 已经有文件了，请换一个新的（或空的）文件夹")
    os.makedirs(os.path.join(dest, "towns"), exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    manifest = {"started_at": started.isoformat(timespec="seconds"), "files": {}}
    for name in files:
        target = os.path.join(dest, name)
        partial = target + ".partial"
        t0 = time.monotonic()
        copy_file(os.path.join(instance, name), partial)
        problem = integrity(partial)
        if problem != "ok":
            os.remove(partial)
            raise BackupError(f"{name} 的备份没有通过检查：{problem}")
        os.replace(partial, target)
        size = os.path.getsize(target)
        manifest["files"][name] = {"bytes": size, "integrity": "ok"}
        log(f"{name}: {size / 1e6:.1f} MB, ok ({time.monotonic() - t0:.1f} s)")
    manifest["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open(os.path.join(dest, "backup.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    return manifest


def restore(source, instance, force=False, log=print):
    """Put the files of a backup folder into `instance`. Refuses a non-empty instance unless force (then the files
    replaced are moved to instance/before-restore-<time>/). Every file of the backup is checked first: a damaged
    backup changes nothing. The app must not be serving this instance meanwhile."""
    files = instance_files(source)
    if "directory.db" not in files:
        raise BackupError(f"{source} 里没有 directory.db，不是村务通的备份")
    for name in files:
        problem = integrity(os.path.join(source, name))
        if problem != "ok":
            raise BackupError(f"备份里的 {name} 已损坏，什么都没有恢复：{problem}")
    present = instance_files(instance)
    if present and not force:
        raise BackupError(f"{instance} 里已经有数据（{len(present)} 个文件）。确定要用备份替换，请加 --force；"
                          "被替换的文件会留在 before-restore-<时间> 文件夹里")
    os.makedirs(os.path.join(instance, "towns"), exist_ok=True)
    staged = []
    try:
        for name in files:  # copied beside their place first: a full disk stops here, with the instance untouched
            partial = os.path.join(instance, name + ".restoring")
            copy_file(os.path.join(source, name), partial)
            if integrity(partial) != "ok":
                raise BackupError(f"{name} 复制后没有通过检查，什么都没有恢复")
            staged.append((name, partial))
    except BaseException:
        for _name, partial in staged:
            os.remove(partial)
        raise
    aside = None
    if present:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = os.path.join(instance, f"before-restore-{stamp}")
        os.makedirs(os.path.join(aside, "towns"))
        for name in present:
            _checkpoint(os.path.join(instance, name))
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(os.path.join(instance, name + suffix)):
                    shutil.move(os.path.join(instance, name + suffix), os.path.join(aside, name + suffix))
    for name, partial in staged:
        for suffix in ("-wal", "-shm"):  # never let an old WAL be read with the restored file
            if os.path.exists(os.path.join(instance, name + suffix)):
                os.remove(os.path.join(instance, name + suffix))
        os.replace(partial, os.path.join(instance, name))
        log(f"{name}: restored")
    if aside:
        log(f"replaced files kept in {aside}")
    return aside


def _checkpoint(path):
    """Fold a file's WAL into it before it is moved aside, so the kept copy is whole on its own."""
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        pass  # a damaged file is moved aside as it is
