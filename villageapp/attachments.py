"""Attachments (photos, PDFs) of any record, stored inside the town file so a copy of the file
is a copy of everything: type checks by content, photo shrinking, and serving."""
import hashlib
import io

from flask import current_app
from PIL import Image, UnidentifiedImageError

from .clock import now_iso

KINDS = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}
LONGEST_SIDE = 1600
SHRINK_ABOVE = 300 * 1024


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
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            raise AttachmentError(f"“{filename}”打不开，可能已损坏，请重新拍照或选择") from None
        if len(data) > SHRINK_ABOVE or max(image.size) > LONGEST_SIDE:
            data, kind = _shrink(image), "image/jpeg"
            filename = filename.rsplit(".", 1)[0] + ".jpg"
    return filename, kind, data


def _shrink(image):
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75, optimize=True, progressive=True)
    return out.getvalue()


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
