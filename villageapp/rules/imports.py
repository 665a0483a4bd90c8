"""Reading the 村规民约 a village already has (issue 15): the text from a .docx, a .txt or a paste, bounded and
normalised (read_file, read_paste), and its structure as such texts are written in practice (parse): title,
preamble, chapters, articles, closing lines and the adoption facts in them, with a Chinese warning for every place
where the numbering skips or repeats or is missing. Forgiving and deterministic: no network, no guessing in silence.
The pages that show the result for the cadre to check are import_views.py."""
import io
import re
import zipfile
from datetime import date


class ImportRefused(ValueError):
    """str(error) is the Chinese reason to show the cadre by the upload/paste field."""


MAX_TEXT_CHARS = 200_000          # a rulebook is 3,000–30,000 characters
MAX_FILE_BYTES = 5 * 1024 * 1024  # checked before decoding anything
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024   # a .docx's members together, by their declared sizes, before any is read
MAX_ZIP_MEMBERS = 1000
MAX_WARNINGS = 20

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


# ---- .docx ----------------------------------------------------------------------------------------------

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
    import docx  # python-docx: imported here so that reading a paste does not load it
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
        return str(n).translate(_TO_FULLWIDTH)
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt == "bullet" or fmt == "none":
        return ""
    return str(n)


_TO_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")


# ---- normalising ----------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x0b": "\n", "\x0c": "\n", "\x85": "\n"})


def clean(text):
    """Line breaks as \\n, invisible and control characters gone, each line trimmed (full-width spaces and tabs
    too), at most one blank line in a row. Idempotent; never raises."""
    text = text.replace("\r\n", "\n").translate(_BREAKS).translate(_INVISIBLE)
    text = "".join(ch for ch in text if ch >= " " or ch in "\n\t")
    lines, blank = [], False
    for line in text.split("\n"):
        line = re.sub(r"[ \t\u3000\xa0]+", " ", line.strip())
        if line or not blank:
            lines.append(line)
        blank = not line
    return "\n".join(lines).strip("\n")


# ---- numbers as written ---------------------------------------------------------------------------------

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
CN_CHARS = "零〇○一二两三四五六七八九十百"


def cn_value(numeral):
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105, 10 / １０ → 10; None if it is not a number."""
    numeral = numeral.translate(_TO_ASCII)
    if numeral.isdigit():
        return int(numeral)
    total, digit = 0, None
    for ch in numeral:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in "十百":
            total += (1 if digit is None else digit) * (10 if ch == "十" else 100)
            digit = None
        else:
            return None
    return total + (digit or 0)


def cn_number(n):
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五, 110 → 一百一十."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        tail = ""
    elif rest < 10:
        tail = "零" + digits[rest]
    else:
        tail = ("一" if rest < 20 else "") + cn_number(rest)
    return digits[hundreds] + "百" + tail


# ---- parsing: the structure of the text ---------------------------------------------------------------

_NUM = rf"[{CN_CHARS}0-9０-９]{{1,6}}"
ZHANG = re.compile(rf"^第\s*({_NUM})\s*(章|部分|编|节)\s*[:：、.．]?\s*(.*)$")
TIAO = re.compile(rf"^第\s*({_NUM})\s*条\s*[:：、.．，,]?\s*(.*)$")
CN_LABEL = re.compile(rf"^([{CN_CHARS}]{{1,5}})\s*([、．.])\s*(.*)$")
AR_LABEL = re.compile(r"^([0-9０-９]{1,3})\s*([.．](?!(?![0-9０-９]{4}年)[0-9０-９])|、)\s*(.*)$")  # not 1.5米; 1.2019年 is
PAREN_LABEL = re.compile(r"^[（(]\s*([一二三四五六七八九十百]{1,4}|[0-9０-９]{1,3})\s*([)）])\s*(.*)$")
TITLE = re.compile(r"(村规民约|乡规民约|居规民约|居民公约|村民公约|社区公约|自治章程|民约|公约|规约)$")
KNOWN_HEADINGS = {"总则", "分则", "附则", "罚则", "奖惩", "奖惩办法", "违约责任", "奖励与处罚"}
PUNCTUATION = set("。；;，,：:！!？?、")
TERMINAL = ("。", "；", ";", "！", "!", "？", "?", "”", "」", "）", ")")
BRACKETED = re.compile(r"^[（(【\[].*[）)】\]]$")
PREAMBLE_START = re.compile(r"^(为了|为|根据|依据|按照)")
SELF_REFERENCE = re.compile(r"^(本|此|以上)(村规民约|乡规民约|居民公约|村民公约|公约|规约|民约|章程|约)")
CLOSING_WORDS = re.compile(SELF_REFERENCE.pattern + r"|起施行|起实施|起执行|起生效"
                           r"|之日起|讨论通过|表决通过|会议通过|负责解释|解释权|备案")
SIGNATURE = re.compile(r"^[^。，,；;]{0,30}(村民委员会|村委会|居民委员会|居委会|委员会|党支部|党总支|人民政府|村|社区)"
                       r"\s*([（(](盖章|章|印)[）)])?$")
_YEAR_CN = "〇○零Ｏ一二三四五六七八九"
DATE = re.compile(rf"(\d{{4}}|[{_YEAR_CN}]{{4}})\s*(?:年|\.|/|-)\s*(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})\s*(?:月|\.|/|-)\s*"
                  rf"(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})\s*(?:日|号)?")
MEETING = re.compile(r"村民代表大会|村民代表会议|村民会议|村民大会|居民代表大会|居民代表会议|居民会议|户代表会议|党员大会")
ITEM_INLINE = re.compile(r"(?<=[：:；;。])\s*(?=[（(][一二三四五六七八九十\d]{1,3}[)）]|[①-⑳]|\d{1,2}[)）])")


class _Line:
    __slots__ = ("blank_before", "kind", "label", "number", "rest", "text")

    def __init__(self, text, blank_before):
        self.text, self.blank_before = text, blank_before
        self.kind, self.number, self.label, self.rest = "text", None, "", text
        for kind, pattern in (("zhang", ZHANG), ("tiao", TIAO), ("cn", CN_LABEL), ("ar", AR_LABEL), ("paren", PAREN_LABEL)):
            match = pattern.match(text)
            if kind == "zhang" and match and not _heading_like(match.group(3) or "章"):
                continue  # 第三章 with a sentence after it is not a chapter heading
            if match and (cn_value(match.group(1)) or 0) > 0:
                self.kind, self.number = kind, cn_value(match.group(1))
                self.label = _label(kind, match)
                self.rest = match.group(match.lastindex).strip()
                return


def _label(kind, match):
    numeral = re.sub(r"\s", "", match.group(1))
    if kind == "zhang":
        return f"第{numeral}{match.group(2)}"
    if kind == "tiao":
        return f"第{numeral}条"
    if kind == "paren":
        return re.sub(r"\s", "", match.string[:match.end(2)])
    return numeral + match.group(2)


def _lines(text):
    out, blank = [], False
    for raw in text.split("\n"):
        if raw:
            out.append(_Line(raw, blank))
        blank = not raw
    return out


def _heading_like(text):
    return 0 < len(text) <= 16 and not PUNCTUATION.intersection(text) and not BRACKETED.match(text) and not DATE.search(text)


def parse(text):
    """The structure of a rulebook's text (see the module's docstring; the keys are import_views.py's interface)."""
    lines = _lines(clean(text or ""))
    title_at = _title_at(lines)
    article_kind, chapter_kind = _levels(lines)
    roles = _roles(lines, title_at, article_kind, chapter_kind)
    closing_at = _closing_at(lines, roles)
    start = _body_start(lines, roles, title_at, closing_at, article_kind)
    preamble = [line.text for i, line in enumerate(lines[:start]) if i != title_at]
    closing = [line.text for line in lines[closing_at:]]
    warnings = [] if title_at is not None else ["没有找到标题（如“××村村规民约”），请在下面填写"]
    articles, orphans = _articles(lines[start:closing_at], roles[start:closing_at])
    warnings += _orphan_warnings(orphans, article_kind)
    warnings += _numbering_warnings(articles, article_kind)
    warnings += _chapter_warnings(lines, roles)
    _titles(articles)
    facts = _facts(closing, [line.text for line in lines[:start]], articles)
    if len(warnings) > MAX_WARNINGS:
        warnings = [*warnings[:MAX_WARNINGS], f"另外还有 {len(warnings) - MAX_WARNINGS} 处问题，请逐条核对编号"]
    if not articles:
        warnings.append("没有找到任何条文。条文一般写成“第一条……”或“一、……”“1. ……”，请检查贴进来的是不是全文")
    return {"title": lines[title_at].text.strip("《》") if title_at is not None else "",
            "preamble": "\n".join(preamble), "articles": [_public(a) for a in articles], "closing": "\n".join(closing),
            **facts, "warnings": warnings}


def _public(article):
    return {"chapter": article["chapter"], "label": article["label"], "title": article["title"],
            "body": article["body"], "number": article["number"]}


def _title_at(lines):
    """The first line naming the rulebook (……村村规民约, 《……居民公约》, ……村规民约（修订）), before any article."""
    for i, line in enumerate(lines[:12]):
        if line.kind in ("tiao", "zhang") or (line.kind in ("cn", "ar") and i > 0):
            return None
        name = re.sub(r"[（(][^（()）]*[）)]$", "", line.text).strip("《》 ")
        if len(line.text) <= 40 and TITLE.search(name) and not PUNCTUATION.intersection(name):
            return i
    return None


def _levels(lines):
    """(the kind of line that starts an article, the kind that is a numbered chapter heading or None)."""
    present = [k for k in ("tiao", "cn", "ar", "paren") if any(line.kind == k for line in lines)]
    if not present:
        return None, None
    if "tiao" in present:
        chapter = next((k for k in ("cn", "ar") if k in present and _chapter_like(lines, k, "tiao")), None)
        return "tiao", chapter
    for chapter, article in (("cn", "ar"), ("ar", "cn"), ("cn", "paren"), ("ar", "paren")):
        if chapter in present and article in present and _chapter_like(lines, chapter, article):
            return article, chapter
    numbered = [k for k in present if k != "paren"] or ["paren"]  # （一） is an item inside an article, unless alone
    return next(line.kind for line in lines if line.kind in numbered), None


def _chapter_like(lines, chapter, article):
    """Both numbered levels are present: the shorter, heading-like one, each followed by an article, is the chapter."""
    heads = [i for i, line in enumerate(lines) if line.kind == chapter]
    bodies = [line for line in lines if line.kind == article]
    if not heads or len(bodies) < len(heads):
        return False
    heading = sum(1 for i in heads if _heading_like(lines[i].rest))
    followed = sum(1 for i in heads if i + 1 < len(lines) and lines[i + 1].kind == article)
    shorter = sum(len(lines[i].rest) for i in heads) / len(heads) < sum(len(b.rest) for b in bodies) / len(bodies)
    return heading >= 0.8 * len(heads) and followed >= 0.8 * len(heads) and shorter


def _roles(lines, title_at, article_kind, chapter_kind):
    roles = []
    for i, line in enumerate(lines):
        if i == title_at:
            roles.append("title")
        elif line.kind == "zhang":
            roles.append("chapter")
        elif article_kind and line.kind == article_kind:
            roles.append("article")
        elif chapter_kind and line.kind == chapter_kind or line.kind == "text" and _bare_heading(lines, i, article_kind, title_at):
            roles.append("chapter")
        else:
            roles.append("text")
    return roles


def _bare_heading(lines, i, article_kind, title_at):
    """A short line on its own (总则, 林地管理, 附则) that a numbered article follows."""
    line = lines[i]
    if not _heading_like(line.text) or i + 1 >= len(lines) or TITLE.search(line.text) or SIGNATURE.match(line.text):
        return False
    if line.text in KNOWN_HEADINGS:
        return True
    if article_kind is None or lines[i + 1].kind != article_kind:
        return False
    prev = lines[i - 1] if i and i - 1 != title_at else None
    return prev is None or line.blank_before or prev.kind != "text" or prev.text.endswith(TERMINAL)


def _closing_like(line):
    text = line.text.strip("（）()")
    if line.kind != "text":
        return False
    return _date_line(text) or bool(SIGNATURE.match(text) or CLOSING_WORDS.search(text))


def _date_line(text):
    """A line that is a date (2019年3月15日, 二〇一九年三月十五日通过), not a sentence that starts with one."""
    match = DATE.match(text.strip("（）()"))
    return bool(match) and len(text.strip("（）()")) - match.end() <= 4 and not PUNCTUATION.intersection(text)


def _closing_at(lines, roles):
    """Where the closing lines start: the trailing unnumbered lines that say who adopted it, when, from when."""
    last = max((i for i, role in enumerate(roles) if role in ("article", "chapter", "title")), default=-1)
    at = len(lines)
    while at - 1 > last and _closing_like(lines[at - 1]):
        at -= 1
    if at < len(lines) and 0 <= at - 1 and roles[at - 1] == "chapter":
        while at < len(lines) and not (_date_line(lines[at].text) or SIGNATURE.match(lines[at].text)):
            at += 1  # 附则 then its unnumbered sentences: those belong to the chapter, not to the closing lines
    return at


def _body_start(lines, roles, title_at, closing_at, article_kind):
    """Where the articles start: the first chapter or article; with no numbering at all, after a 为了……制定 preamble."""
    first = next((i for i, role in enumerate(roles[:closing_at]) if role in ("article", "chapter")), None)
    if first is not None:
        return first
    at = title_at + 1 if title_at is not None else 0
    while at < closing_at and (PREAMBLE_START.match(lines[at].text) and "制定" in lines[at].text
                               or BRACKETED.match(lines[at].text)):
        at += 1
    return at


def _articles(lines, roles):
    """Articles in the text's order; unnumbered lines with no article to belong to become one article each."""
    articles, orphans, chapter, current = [], [], "", None
    for line, role in zip(lines, roles):
        if role == "chapter":
            chapter, current = line.text, None
        elif role == "article":
            current = {"chapter": chapter, "label": line.label, "number": line.number, "kind": line.kind,
                       "lines": [line.rest] if line.rest else []}
            articles.append(current)
        elif current is not None:
            current["lines"].append(line.text)
        else:
            articles.append({"chapter": chapter, "label": "", "number": None, "kind": None, "lines": [line.text]})
            orphans.append(chapter)
    return articles, orphans


LOST_NUMBERING = ("全文没有找到“第一条”“一、”“1.”这样的条文编号（从 Word 复制时，自动编号常常会丢）。下面先把每一段放成一条，"
                  "请逐条核对，该合并的合并；也可以直接上传 .docx 文件，自动编号能读出来")


def _orphan_warnings(orphans, article_kind):
    if not orphans:
        return []
    if article_kind is None:
        return [LOST_NUMBERING]
    out = []
    for chapter in dict.fromkeys(orphans):
        count = orphans.count(chapter)
        where = f"「{chapter}」下面" if chapter else "条文前面"
        out.append(f"{where}有 {count} 段文字没有条文编号（可能是自动编号丢了），先各放成一条，请核对")
    return out


# ---- numbering warnings --------------------------------------------------------------------------------

def _numbering_warnings(articles, kind):
    numbered = [a for a in articles if a["number"] is not None]
    if not numbered:
        return []
    name = _namer(kind, numbered[0]["label"])
    restarts = kind != "tiao" and any(a["number"] == 1 and i and a["chapter"] != numbered[i - 1]["chapter"]
                                      for i, a in enumerate(numbered))
    out, seen, prev = [], {}, None
    for a in numbered:
        scope = a["chapter"] if restarts else ""
        where = f"「{scope}」里：" if scope else ""
        n = a["number"]
        if prev is not None and restarts and scope != prev[1] and n == 1:
            prev = None  # a chapter may start again at 1 or count on from the chapter before
        seen[(scope, n)] = seen.pop((scope, n), 0) + 1  # re-inserted: repeats are named in the order they repeat
        expected = 1 if prev is None else prev[0] + 1
        if n > expected:
            missing = name(expected) if n == expected + 1 else f"{name(expected)}到{name(n - 1)}"
            before = f"{name(prev[0])}之后是{name(n)}" if prev else f"条文从{name(n)}开始"
            out.append(f"{where}{before}，缺少{missing}，请核对")
        elif prev is not None and n < prev[0]:
            out.append(f"{where}{name(prev[0])}之后是{name(n)}，编号顺序不对，请核对")
        prev = (n, scope)
    for (scope, n), count in seen.items():
        if count > 1:
            where = f"「{scope}」里：" if scope else ""
            out.append(f"{where}{name(n)}出现了{'两' if count == 2 else cn_number(count)}次，请核对")
    return out


def _namer(kind, label):
    """How the text writes number n at this level: 第六条, “六、”, “6.”."""
    if kind == "tiao":
        arabic = any(ch.isdigit() for ch in label)
        return lambda n: f"第{n if arabic else cn_number(n)}条"
    sep = label[-1] if label else "、"
    if kind == "paren":
        chinese = not any(ch in "0123456789０１２３４５６７８９" for ch in label)
        return lambda n: f"“{label[0]}{cn_number(n) if chinese else n}{sep}”"
    if kind == "cn":
        return lambda n: f"“{cn_number(n)}{sep}”"
    wide = label[:1] in "０１２３４５６７８９"
    return lambda n: f"“{str(n).translate(_TO_FULLWIDTH) if wide else n}{sep}”"


def _chapter_warnings(lines, roles):
    """第二章之后是第四章: the same check for numbered chapters 第X章."""
    heads = [line for line, role in zip(lines, roles) if role == "chapter" and line.kind == "zhang"]
    out, prev = [], None
    for line in heads:
        word = line.label[-1] if not line.label.endswith("部分") else "部分"
        if prev is not None and line.number > prev + 1:
            out.append(f"第{cn_number(prev)}{word}之后是第{cn_number(line.number)}{word}，缺少第{cn_number(prev + 1)}{word}，请核对")
        elif prev is not None and line.number <= prev:
            out.append(f"第{cn_number(prev)}{word}之后又是第{cn_number(line.number)}{word}，请核对章的编号")
        prev = line.number
    return out


# ---- article titles and bodies -------------------------------------------------------------------------

BRACKET_TITLE = re.compile(r"^[【\[［]([^】\]］]{1,20})[】\]］]\s*(.*)$")
COLON_TITLE = re.compile(r"^([^\s，。；：:、（）()]{2,8})\s*[：:]\s*(\S.*)$")
NOT_A_TITLE = re.compile(r"[应得须要禁可是有把将对由在的不]")


def _titles(articles):
    """A short article title where the text gives one: 【宗旨】…, or 宗旨：… when most articles are written so."""
    colon = [COLON_TITLE.match(a["lines"][0]) if a["lines"] and a["label"] else None for a in articles]
    colon = [m if m and not NOT_A_TITLE.search(m.group(1)) else None for m in colon]
    use_colon = sum(1 for m in colon if m) >= max(2, len(articles) // 2) or (len(articles) == 1 and colon[0])
    for article, match in zip(articles, colon):
        article["title"] = ""
        first = article["lines"][0] if article["lines"] else ""
        bracket = BRACKET_TITLE.match(first)
        if bracket:
            article["title"] = bracket.group(1).strip()
            article["lines"][0] = bracket.group(2)
        elif use_colon and match:
            article["title"], article["lines"][0] = match.group(1), match.group(2)
        body = "\n".join(line for line in article["lines"] if line)
        article["body"] = ITEM_INLINE.sub("\n", body) if len(ITEM_INLINE.findall(body)) >= 2 else body


# ---- the facts in the closing lines --------------------------------------------------------------------

def _facts(closing, preamble, articles):
    """adopted_on, meeting, effective_on (and filing_no, filed_on if written) from the closing lines; if they say
    nothing, from the parenthesised lines under the title, then from the last articles (附则)."""
    facts = {"adopted_on": None, "meeting": None, "effective_on": None, "filing_no": None, "filed_on": None}
    about_itself = [part for a in articles[-3:] for part in re.split(r"[。；;\n]", a["body"]) if SELF_REFERENCE.match(part.strip())]
    sources = [closing, [t for t in preamble if BRACKETED.match(t)], about_itself]
    for source in sources:
        found = _facts_in("\n".join(source))
        for key, value in found.items():
            if facts[key] is None and value is not None:
                facts[key] = value
    return facts


def _facts_in(text):
    text = text.translate(_TO_ASCII)
    adopted = effective = signed = filed = None
    for sentence in re.split(r"[。；;\n]", text):
        for match in DATE.finditer(sentence):
            day = _date(match)
            if day is None:
                continue
            after, rest = sentence[match.end():match.end() + 4], sentence[match.end():]
            if re.match(r"\s*(起|开始)", after):
                effective = effective or day
            elif "备案" in rest[:12]:
                filed = filed or day
            elif re.search(r"通过|制定|修订|审议|表决", rest):
                adopted = adopted or day
            elif len(sentence.strip("（）() ")) <= match.end() - match.start() + 4:
                signed = signed or day
    meeting = re.search(rf"({MEETING.pattern})[^。；;\n]{{0,12}}通过", text) or MEETING.search(text)
    filing = re.search(r"备案(?:编号|号|文号)\s*[:：]?\s*([^\s，。；;,]{1,40})", text)
    return {"adopted_on": adopted or signed, "meeting": meeting.group(1) if meeting and meeting.lastindex else
            (meeting.group(0) if meeting else None), "effective_on": effective,
            "filing_no": filing.group(1) if filing else None, "filed_on": filed}


def _date(match):
    year, month, day = match.groups()
    year = int(year) if year.isdigit() else int("".join(str(CN_DIGITS.get(ch, 0)) for ch in year))
    try:
        value = date(year, cn_value(month) or 0, cn_value(day) or 0)
    except (ValueError, TypeError):
        return None
    return value.isoformat() if 1949 <= year <= 2100 else None


def article_lines(articles):
    """The articles back as plain text, a chapter heading wherever the chapter changes (parse() reads it back)."""
    out, chapter = [], ""
    for a in articles:
        if a.get("chapter", "") != chapter:
            chapter = a.get("chapter", "")
            out.append(chapter)
        head = a.get("label", "") + (" " if a.get("label", "").endswith("条") else "")
        head += f"【{a['title']}】" if a.get("title") else ""
        body = a.get("body", "")
        out.append(head + body)
    return "\n".join(out)
