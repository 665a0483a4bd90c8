"""The text of a .docx for the 村规民约 import (issue 15), read with python-docx after the zip's declared sizes are
bounded; Word's automatic numbering, which is not in a paragraph's text, is put back."""
import io
import zipfile

import docx

from .import_text import TO_FULLWIDTH, cn_number
from .imports import ACCEPTED, NOT_DOCX, ImportRefused

MAX_UNZIPPED_BYTES = 40 * 1024 * 1024   # a .docx's members together, by their declared sizes, before any is read
MAX_ZIP_MEMBERS = 1000

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(data):
    """The text of a .docx: its paragraphs in order, each table row as one line (cells separated by a space).
    The zip's declared sizes are bounded before anything is decompressed (a zip bomb is refused unread)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ImportRefused(NOT_DOCX) from None
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "word/document.xml" not in names or "[Content_Types].xml" not in names:
            raise ImportRefused("这是一个压缩包，不是 Word 文件（.docx）。" + ACCEPTED)
        if len(infos) > MAX_ZIP_MEMBERS or sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
            raise ImportRefused("这个 .docx 文件解开后太大，可能已经损坏。请在 WPS 或 Word 里打开它，删掉图片后另存为 .docx，"
                                "或者把全文复制粘贴进来")
    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_blocks(document.element.body, _Numbering(document)))
    except Exception:  # noqa: BLE001 — python-docx raises many kinds of error on a damaged or disguised file
        raise ImportRefused(NOT_DOCX) from None
    return "\n".join(lines)


def _blocks(parent, numbering):
    for child in parent.iterchildren():
        if child.tag == W + "p":
            yield numbering.label(child) + _paragraph_text(child)
        elif child.tag == W + "tbl":
            yield from _table_rows(child)
        elif child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _blocks(content, numbering)


RUNS = "|".join(f"./{wrapper}w:r" for wrapper in ("", "w:hyperlink/", "w:ins/", "w:moveTo/", "w:smartTag/", "w:fldSimple/",
                                                  "w:customXml/", "w:sdt/w:sdtContent/"))


def _paragraph_text(paragraph):
    """A paragraph's text with tracked insertions and content controls (python-docx's own .text leaves them out);
    deleted text stays out."""
    return "".join(run.text or "" for run in paragraph.xpath(RUNS))


def _table_rows(table):
    for row in table.iterchildren(W + "tr"):
        cells = []
        for cell in row.iterchildren(W + "tc"):
            text = " ".join(t for t in (_paragraph_text(p).strip() for p in cell.iter(W + "p")) if t)
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            yield " ".join(cells)


class _Numbering:
    """Word's automatic numbering (第一条, 一、, 1.) is not in a paragraph's text: this puts it back, counting
    each list's levels as Word does: lists sharing a definition count on together unless one says where it starts
    again (startOverride), and a deeper level starts again when a higher one moves on."""

    def __init__(self, document):
        self.abstract, self.nums, self.counters, self.styles, self.started = {}, {}, {}, {}, set()
        try:
            part = document.part.numbering_part
        except (KeyError, NotImplementedError, AttributeError):
            part = None
        if part is not None:
            self._read(part.element)
        for node in document.styles.element.iterchildren(W + "style"):
            props = node.find(W + "pPr")
            num = props.find(W + "numPr") if props is not None else None
            self.styles[node.get(W + "styleId")] = (num, _val(node, "basedOn"))

    def _read(self, root):
        for node in root.iterchildren(W + "abstractNum"):
            levels = {}
            for lvl in node.iterchildren(W + "lvl"):
                levels[_int(lvl.get(W + "ilvl"), 0)] = (
                    _int(_val(lvl, "start"), 1), _val(lvl, "numFmt") or "decimal", _val(lvl, "lvlText") or "")
            self.abstract[node.get(W + "abstractNumId")] = levels
        for node in root.iterchildren(W + "num"):
            ref = _val(node, "abstractNumId")
            if ref in self.abstract:
                restarts = {_int(o.get(W + "ilvl"), 0): _int(_val(o, "startOverride"), 1)
                            for o in node.iterchildren(W + "lvlOverride") if _val(o, "startOverride") is not None}
                self.nums[node.get(W + "numId")] = (ref, restarts)

    def _style_numbering(self, style_id):
        """(numId, ilvl) a paragraph style gives (Word's 列表编号 styles, headings with numbering), via basedOn."""
        seen = set()
        while style_id and style_id not in seen:
            seen.add(style_id)
            num, based = self.styles.get(style_id, (None, None))
            if num is not None:
                return _val(num, "numId"), _val(num, "ilvl")
            style_id = based
        return None, None

    def label(self, paragraph):
        props = paragraph.find(W + "pPr")
        if props is None:
            return ""
        num = props.find(W + "numPr")
        style_num, level = self._style_numbering(_val(props, "pStyle"))
        num_id = _val(num, "numId") if num is not None else None
        num_id = num_id or style_num
        level = _int(_val(num, "ilvl") if num is not None and _val(num, "ilvl") is not None else level, 0)
        if num_id not in self.nums or level not in self.abstract[self.nums[num_id][0]]:
            return ""
        ref, restarts = self.nums[num_id]
        levels, counts = self.abstract[ref], self.counters.setdefault(ref, {})
        if num_id not in self.started:
            self.started.add(num_id)
            counts.update({k: start - 1 for k, start in restarts.items()})
        for deeper in [k for k in counts if k > level]:
            del counts[deeper]
        counts[level] = counts.get(level, levels[level][0] - 1) + 1
        text = levels[level][2]
        for k in range(9):
            if f"%{k + 1}" in text:
                start, fmt, _ = levels.get(k, (1, "decimal", ""))
                text = text.replace(f"%{k + 1}", _format_number(counts.get(k, start), fmt))
        return text + ("" if not text or text.endswith(("、", ".", "．", "）", ")", " ", "\u3000")) else " ")


def _val(node, name):
    child = node.find(W + name)
    return child.get(W + "val") if child is not None else None


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _format_number(n, fmt):
    if fmt.startswith("chineseCounting") or fmt in ("ideographTraditional", "taiwaneseCounting", "chineseLegalSimplified"):
        return cn_number(n)
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return CIRCLED[n - 1] if 0 < n <= len(CIRCLED) else str(n)
    if fmt == "decimalFullWidth":
        return str(n).translate(TO_FULLWIDTH)
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt == "bullet" or fmt == "none":
        return ""
    return str(n)
