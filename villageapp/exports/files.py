"""What goes into each download, as generators of bytes: a list as CSV or XLSX, the photos of a list's records as a
zip with readable names, and the town archive. Shared by the pages and `villageapp export`."""
import os
import re
import sqlite3
import tempfile

from .. import backup
from ..clock import now_iso
from .formats import ZipStream, column_types, csv_chunks, table_rows, xlsx_chunks

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif", "application/pdf": "pdf",
              "text/plain": "txt"}
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\s]+')


def notice(who, description):
    """The first row of a file that holds personal information."""
    return (f"本表含个人信息，仅供工作使用，不得公开、转发或挪作他用（个人信息保护法）。"
            f"导出人：{who}；导出时间：{now_iso()[:16].replace('T', ' ')}；筛选：{description}")


def table_chunks(db, listing, filters, fmt, who, description):
    """A list as CSV or XLSX: (the notice,) the Chinese header, then exactly the rows the filters select."""
    header = [column[0] for column in listing.columns]
    rows = table_rows(listing.columns, listing.query(db, filters))
    first = notice(who, description) if listing.personal else None
    if fmt == "csv":
        return csv_chunks(header, rows, first)
    return xlsx_chunks(header, rows, column_types(listing.columns), first, sheet=listing.label)


def clean(text, limit=40):
    """A piece of a file name: no path separators, no characters Windows refuses, not too long."""
    return UNSAFE.sub("_", str(text or "")).strip("._")[:limit] or "无标题"


def photo_name(village, day, title, number, content_type):
    return f"{clean(village, 20)}-{clean(day, 10)}-{clean(title)}-{number}.{EXTENSIONS.get(content_type, 'bin')}"


def photo_chunks(db, listing, filters, villages):
    """The photos of the selected records in one zip: 村-日期-标题-序号.jpg, in the list's order."""
    zipped, found = ZipStream(), 0
    for row in listing.query(db, filters):
        day, title = listing.photo_title(row)
        village = row.get("village_name") or villages.get(row.get("village_code"), "")
        for number, photo in enumerate(listing.photos(db, row), 1):
            found += 1
            yield from zipped.add(photo_name(village, day, title, number, photo["content_type"]), photo["data"],
                                  stored=True)
    if not found:
        yield from zipped.add("没有照片.txt", "所选的记录没有照片。\r\n".encode())
    yield from zipped.close()


ARCHIVE_NOTE = """{town}全部数据（{at}）

本压缩包含个人信息，只能由镇里保管，不得公开或转发。
- {code}.sqlite：镇数据文件在同一时刻的完整副本（SQLite 备份接口），可用 villageapp restore 恢复；
- 表格CSV/、表格XLSX/：每张表一份（CSV 为 UTF-8 带 BOM，Excel、WPS 可直接打开），均取自上面的同一副本；
- 文件/：各村上传的照片和文件，按村分开；附件/：公开事项、村规民约的附件。
""".replace("\n", "\r\n")


def _skipped(conn):
    """Full-text index tables (virtual tables and their shadow tables): rebuilt from the data, not exported; nor
    Litestream's own bookkeeping tables (_litestream_seq, _litestream_lock: `villageapp replicate`)."""
    virtual = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' and sql like 'CREATE VIRTUAL%'")]
    names = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    return {n for n in names if n.startswith(("sqlite_", "_litestream_")) or any(n == v or n.startswith(v + "_") for v in virtual)}


def archive_chunks(town, path, tmp_dir, words):
    """`words` names the columns (audit.fields()). The town archive, streamed: a snapshot of the town file as of one instant, then every table of that snapshot
    as CSV and XLSX, then every file. Only the snapshot reads the live file; nothing takes the write lock."""
    zipped = ZipStream()
    yield from zipped.add("说明.txt", ARCHIVE_NOTE.format(town=town["name"], code=town["code"],
                                                        at=now_iso()[:16].replace("T", " ")).encode("utf-8"))
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="archive-") as tmp:
        snapshot = os.path.join(tmp, f"{town['code']}.sqlite")
        backup.copy_file(path, snapshot)
        yield from zipped.add_file(f"{town['code']}.sqlite", snapshot)
        conn = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
        try:
            yield from _tables(zipped, conn, words)
            villages = dict(conn.execute("select code, name from villages"))
            for sha256, village, kind, data in conn.execute(
                    "select f.sha256, o.village_code, f.content_type, f.data from file_villages o "
                    "join files f on f.sha256 = o.sha256 order by o.village_code, o.created_at"):
                name = f"文件/{clean(villages.get(village, village), 20)}/{sha256[:16]}.{EXTENSIONS.get(kind, 'bin')}"
                yield from zipped.add(name, data, stored=kind.startswith("image/"))
            for record, filename, village, data in conn.execute(
                    "select a.record_uuid, a.filename, coalesce(n.village_code, r.village_code), a.data from attachments a "
                    "left join notices n on n.uuid = a.record_uuid left join rule_versions r on r.uuid = a.record_uuid "
                    "order by a.created_at"):
                name = f"附件/{clean(villages.get(village, village or '其他'), 20)}/{record[:8]}-{clean(filename, 60)}"
                yield from zipped.add(name, data)
        finally:
            conn.close()
    yield from zipped.close()


def _tables(zipped, conn, words):
    skipped = _skipped(conn)
    for (table,) in conn.execute("select name from sqlite_master where type = 'table' order by name").fetchall():
        if table in skipped:
            continue
        columns = [(name, kind) for _cid, name, kind, *_rest in conn.execute(f"pragma table_info([{table}])")
                   if kind.upper() != "BLOB"]
        header = [f"{words[name]}（{name}）" if name in words else name for name, _kind in columns]
        select = f"select {', '.join(f'[{name}]' for name, _kind in columns)} from [{table}] order by rowid"
        yield from zipped.add_chunks(f"表格CSV/{table}.csv", csv_chunks(header, conn.execute(select)))
        yield from zipped.add_chunks(f"表格XLSX/{table}.xlsx",
                                     xlsx_chunks(header, conn.execute(select), ["text"] * len(columns), sheet=table),
                                     stored=True)
