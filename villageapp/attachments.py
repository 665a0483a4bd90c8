"""Attachments (photos, PDFs) of any record, stored inside the town file so a copy of the file
is a copy of everything: type checks by content, photo shrinking, which village a file belongs to, and serving.

Hostile files: a photo is refused by its pixel count read from the header, before anything is decoded, and at most
DECODE_AT_ONCE photos are decoded at a time, so a few "decompression bombs" cannot take the server's memory."""
import hashlib
import io
import threading
import warnings

from flask import abort, current_app, send_file
from PIL import Image

from .clock import now_iso
from .store import write

KINDS = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}
LONGEST_SIDE = 1600
SHRINK_ABOVE = 300 * 1024
MAX_PIXELS = 50_000_000  # a phone photo is at most ~50 MP; more is a mistake or an attack
DECODE_AT_ONCE = 2       # photos decoded at the same time (a 50 MP photo takes ~150 MB while it is decoded)

# Pillow refuses a bigger image at open (reading only the header) instead of decoding it: above MAX_IMAGE_PIXELS it
# warns and above twice that it raises; the filter turns the warning into an error too, so every bomb raises
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
_decoding = threading.BoundedSemaphore(DECODE_AT_ONCE)

# a stored file is shown as it is, never run: no type guessing, no script, no plugin, no form, in its own origin
FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; frame-ancestors 'none'"


class AttachmentError(ValueError):
    """A file that cannot be accepted; the message is for the person who chose it."""


def sniff(data):
    for magic, kind in KINDS.items():
        if data.startswith(magic):
            return kind
    return None


def prepare(filename, data):
    """Check one uploaded file and return (filename, content_type, bytes) to store. Photos larger than
    ~300 KB or 1600 px are re-encoded so villagers on 3G can open them."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    if len(data) > limit:
        raise AttachmentError(f"“{filename}”有 {len(data) / 1048576:.1f} MB，超过了 {limit // 1048576} MB 的上限，请缩小后再传")
    if not data:
        raise AttachmentError(f"“{filename}”是空文件")
    kind = sniff(data)
    if kind is None:
        raise AttachmentError(f"“{filename}”不是照片（JPG、PNG）或 PDF 文件，不能上传")
    if kind.startswith("image/"):
        shrunk = _check_photo(filename, data)
        if shrunk is not None:
            data, kind = shrunk, "image/jpeg"
            filename = filename.rsplit(".", 1)[0] + ".jpg"
    return filename, kind, data


def _check_photo(filename, data):
    """Decode the whole photo (a cut or forged file is refused) and return it shrunk, or None when it is fine as it is."""
    broken = AttachmentError(f"“{filename}”打不开，可能已损坏，请重新拍照或选择")
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_big(filename) from None
    except Exception:  # Pillow raises many kinds of errors on a forged header
        raise broken from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_big(filename, width, height)
    with _decoding:
        try:
            if image.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale when that still gives ≥ 1600 px
                image.draft("RGB", (LONGEST_SIDE, LONGEST_SIDE))
            image.load()
            if len(data) > SHRINK_ABOVE or max(image.size) > LONGEST_SIDE:
                return _shrink(image)
        except Exception:
            raise broken from None
    return None


def _too_big(filename, width=None, height=None):
    size = f"（{width}×{height}，约 {width * height / 1e6:.0f} 百万像素）" if width else ""
    return AttachmentError(f"“{filename}”像素太多{size}，超过了 {MAX_PIXELS // 1_000_000} 百万像素的上限，"
                           "请用手机正常拍照，或缩小后再传")


def _shrink(image):
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75, optimize=True, progressive=True)
    return out.getvalue()


def prepare_photo(filename, data):
    """prepare() for a place that takes photos only (meeting minutes). Returns (content_type, bytes)."""
    _name, kind, data = prepare(filename, data)
    if not kind.startswith("image/"):
        raise AttachmentError(f"“{filename}”不是照片，会议记录只收照片")
    return kind, data


# ---- attachments of one record (notices, rules): they belong to the record, and so to its village ---------------

def add(db, record_uuid, filename, content_type, data, actor):
    digest = hashlib.sha256(data).hexdigest()
    db["attachments"].insert({"sha256": digest, "record_uuid": record_uuid, "filename": filename,
                              "content_type": content_type, "size": len(data), "data": data,
                              "created_at": now_iso(), "created_by": actor}, ignore=True)
    return digest


def listing(db, record_uuid):
    return list(db.query("select sha256, filename, content_type, size from attachments where record_uuid = ? "
                         "order by created_at, filename", [record_uuid]))


def get(db, record_uuid, sha256):
    return next(db["attachments"].rows_where("record_uuid = ? and sha256 = ?", [record_uuid, sha256]), None)


# ---- files sent on their own, named by their SHA-256 (meeting photos): each belongs to the villages that sent it ---

def keep_file(db, village_code, sha256, content_type, data, actor):
    """Store a checked file for a village. The bytes are kept once per town; each village that sent them owns them
    (file_villages), so the same photo sent by two villages is two villages' photo, and neither sees the other's."""
    stamp = now_iso()
    with write(db):  # the bytes and who owns them, together
        db["files"].insert({"sha256": sha256, "village_code": village_code, "content_type": content_type,
                            "size": len(data), "data": data, "created_at": stamp, "created_by": actor}, ignore=True)
        db["file_villages"].insert({"sha256": sha256, "village_code": village_code, "created_at": stamp,
                                    "created_by": actor}, ignore=True)


def store_photo(db, village_code, filename, data, actor):
    """A photo chosen on a page without JS: checked and shrunk like any upload, kept under its SHA-256. Returns the hash."""
    kind, data = prepare_photo(filename, data)
    digest = hashlib.sha256(data).hexdigest()
    keep_file(db, village_code, digest, kind, data, actor)
    return digest


def owned(db, village_code, hashes):
    """Which of these files the village has (sent by one of its cadres)."""
    hashes = list(hashes)
    if not hashes:
        return set()
    marks = ",".join("?" * len(hashes))
    return {r[0] for r in db.execute(f"select sha256 from file_villages where village_code = ? and sha256 in ({marks})",
                                     [village_code, *hashes])}


def foreign(db, village_code, hashes):
    """Files that are on the server for another village but not for this one (a record may not list them)."""
    hashes = list(hashes)
    if not hashes:
        return []
    marks = ",".join("?" * len(hashes))
    stored = {r[0] for r in db.execute(f"select sha256 from files where sha256 in ({marks})", hashes)}
    mine = owned(db, village_code, stored)
    return [h for h in hashes if h in stored and h not in mine]


def village_file(db, village_code, sha256):
    """The file if the village owns it, else None (another village's file is answered as absent)."""
    return next(db.query("select f.* from files f join file_villages o on o.sha256 = f.sha256 "
                         "where f.sha256 = ? and o.village_code = ?", [sha256, village_code]), None)


# ---- which files a record lists (meeting photos): one row per (record, file), in the record's order ----------------

def link(db, table, record_uuid, village_code, hashes, actor):
    """Make the files linked to a record (of this village) exactly `hashes`, in that order (a hash listed twice counts once). A file may be
    linked before its bytes arrive: a phone sends the record and each photo on its own, in any order."""
    wanted = list(dict.fromkeys(hashes))
    with write(db):
        have = {r["sha256"]: r for r in db["record_files"].rows_where("record_uuid = ?", [record_uuid])}
        gone = [h for h in have if h not in wanted]
        if gone:
            marks = ",".join("?" * len(gone))
            db.execute(f"delete from record_files where record_uuid = ? and sha256 in ({marks})", [record_uuid, *gone])
        stamp = now_iso()
        for sort, sha256 in enumerate(wanted):
            old = have.get(sha256)
            if old is None:
                db["record_files"].insert({"table": table, "record_uuid": record_uuid, "village_code": village_code,
                                           "sha256": sha256, "sort": sort, "created_at": stamp, "created_by": actor})
            elif old["sort"] != sort:
                db["record_files"].update((record_uuid, sha256), {"sort": sort})


def linked(db, record_uuid):
    """The SHA-256 names of the files linked to a record, in the record's order."""
    return [r[0] for r in db.execute("select sha256 from record_files where record_uuid = ? order by sort",
                                     [record_uuid])]


def linked_files(db, record_uuid):
    """The linked files of a record that its village owns (bytes included), in the record's order, one at a time."""
    yield from db.query("select f.sha256, f.content_type, f.data from record_files r join files f on f.sha256 = r.sha256 "
                        "join file_villages o on o.sha256 = r.sha256 and o.village_code = r.village_code "
                        "where r.record_uuid = ? order by r.sort", [record_uuid])


# ---- serving ---------------------------------------------------------------------------------------------

YEAR = 31536000


def serve(row, name=None, public=False):
    """The one way a stored file is answered: 404 when there is no row (absent, or not this person's to see), else
    its bytes under `name` (default: its filename). Files are named by their content, so the bytes behind an address
    never change: cached for a year, privately unless the record they belong to is public."""
    if row is None:
        abort(404)
    cache = f"{'public' if public else 'private'}, max-age={YEAR}, immutable"
    return send(row["data"], row["content_type"], row["filename"] if name is None else name, cache)


def send(data, content_type, filename, cache):
    """A stored file as a response: images shown inline, anything else (PDF) as a download; never sniffed, and under
    a sandbox CSP so an HTML/PDF polyglot or a PDF's JavaScript cannot run in the site's origin."""
    image = content_type in ("image/jpeg", "image/png")
    response = send_file(io.BytesIO(data), mimetype=content_type if image or content_type == "application/pdf"
                         else "application/octet-stream", download_name=filename, as_attachment=not image)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cache-Control"] = cache
    return response
