"""Reading the 村规民约 a village already has (issue 15): the text from a .docx, a .txt or a paste, bounded and
normalised (read_file, read_paste), and its structure as such texts are written in practice (parse): title,
preamble, chapters, articles, closing lines and the adoption facts in them, with a Chinese warning for every place
where the numbering skips or repeats or is missing. Forgiving and deterministic: no network, no guessing in silence.
This module is the interface (read_file, read_paste, parse); import_docx.py reads a .docx, import_parse.py finds the
structure, import_text.py normalises. The pages that show the result for the cadre to check are import_views.py."""
from .import_parse import MAX_WARNINGS, article_lines, parse
from .import_text import clean, cn_number, cn_value

__all__ = ["MAX_FILE_BYTES", "MAX_TEXT_CHARS", "MAX_WARNINGS", "ImportRefused", "article_lines", "clean", "cn_number",
           "cn_value", "parse", "read_file", "read_paste"]


class ImportRefused(ValueError):
    """str(error) is the Chinese reason to show the cadre by the upload/paste field."""


MAX_TEXT_CHARS = 200_000          # a rulebook is 3,000–30,000 characters
MAX_FILE_BYTES = 5 * 1024 * 1024  # checked before decoding anything

DOC_REFUSAL = "这是旧版 Word 文件（.doc），请在 WPS 或 Word 里“另存为” .docx 格式再上传，或把全文复制粘贴进来"
WPS_REFUSAL = "这是 WPS 文字的 .wps 文件，请在 WPS 里“另存为” .docx 格式再上传，或把全文复制粘贴进来"
ACCEPTED = "只能导入 .docx（Word、WPS 保存的）或 .txt 文件，或者把全文复制粘贴进来"
PICTURE = "这是一张图片，读不出上面的字。请上传 Word（.docx）文件，或者把全文复制粘贴进来"
PDF = "PDF 文件读不出条文的结构。请找原来的 Word 文件（在 WPS 或 Word 里另存为 .docx）上传，或者把全文复制粘贴进来"
NOT_DOCX = "这个文件不是有效的 Word 文件（.docx），可能已经损坏，或是别的文件改了名字。请在 WPS 或 Word 里打开它，另存为 .docx 再上传，或者把全文复制粘贴进来"
EMPTY = "里面没有文字。请检查选对了文件，或者把全文复制粘贴进来"
TOO_LONG = f"文字太长（超过 {MAX_TEXT_CHARS:,} 字）。一份村规民约一般几千字到三万字，请检查是不是把别的材料也放进来了"

PICTURE_EXTS = {"jpg", "jpeg", "png", "gif", "bmp", "webp", "heic", "heif", "tif", "tiff"}


# ---- reading: a file or a paste → normalised text ------------------------------------------------------

def read_file(filename, data):
    """The text of an uploaded .docx or .txt, normalised; ImportRefused with the reason otherwise."""
    name = (filename or "").strip().lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(f"文件太大（超过 {MAX_FILE_BYTES // (1024 * 1024)} MB）。村规民约的 Word 文件一般不到 1 MB："
                            "请删掉里面的图片再保存，或者把全文复制粘贴进来")
    if not data.strip():
        raise ImportRefused("文件是空的，" + EMPTY)
    kind = _sniff(data)
    if ext == "wps" or (kind == "ole" and ext in ("wps", "wpt")):
        raise ImportRefused(WPS_REFUSAL)
    if ext in ("doc", "dot") or kind == "ole":
        raise ImportRefused(DOC_REFUSAL)
    if ext in PICTURE_EXTS or kind == "picture":
        raise ImportRefused(PICTURE)
    if ext == "pdf" or kind == "pdf":
        raise ImportRefused(PDF)
    if ext not in ("docx", "txt", ""):
        raise ImportRefused(f"不能导入 .{ext[:10]} 文件。" + ACCEPTED)
    if kind == "zip" or ext == "docx":
        from .import_docx import docx_text  # python-docx is loaded only for a .docx (import_docx imports this module)
        return _bounded(docx_text(data))
    return _bounded(decode_text(data))


def read_paste(text):
    """The pasted text, with the same bounds and normalisation as a file's."""
    return _bounded(text or "")


def _bounded(text):
    if len(text) > MAX_TEXT_CHARS:
        raise ImportRefused(TOO_LONG)
    text = clean(text)
    if not text:
        raise ImportRefused("没有内容：" + EMPTY)
    return text


MAGIC = ((b"\xd0\xcf\x11\xe0", "ole"), (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"%PDF", "pdf"),
         (b"\x89PNG", "picture"), (b"\xff\xd8\xff", "picture"), (b"GIF8", "picture"), (b"II*\x00", "picture"),
         (b"MM\x00*", "picture"))


def _sniff(data):
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" or data[4:8] == b"ftyp":
        return "picture"
    return "text"


def decode_text(data):
    """A .txt's bytes as text: UTF-8 (with or without BOM), UTF-16 with BOM (Notepad's "Unicode"), else GB18030/GBK."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRefused("文件的文字编码认不出来。" + _SAVE_AS_UTF8) from None
    if b"\x00" in data:
        raise ImportRefused("这不是文字文件（.txt）。" + ACCEPTED)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _mostly_text(text):
            return text
    raise ImportRefused("文件的文字编码认不出来，或者它不是文字文件。" + _SAVE_AS_UTF8)


_SAVE_AS_UTF8 = "请在记事本里“另存为”，编码选 UTF-8，再上传；或者把全文复制粘贴进来"


def _mostly_text(text):
    controls = sum(1 for ch in text if ch < " " and ch not in "\n\r\t\f\v")
    return controls <= len(text) // 100
