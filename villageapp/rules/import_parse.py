"""The structure of a village's existing 村规民约 as such texts are written in practice (issue 15): title, preamble,
chapters (第一章 总则, 一、总则, or a bare 林地管理), articles (第一条, 一、, 1., （一）), items inside them, closing lines
and the adoption facts in them, with a Chinese warning wherever the numbering skips, repeats or is missing: the text's
order is kept, nothing is renumbered or guessed in silence. Deterministic; no network."""
import re
from datetime import date

from .import_text import CN_CHARS, CN_DIGITS, TO_ASCII, TO_FULLWIDTH, clean, cn_number, cn_value

MAX_WARNINGS = 20
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
    return lambda n: f"“{str(n).translate(TO_FULLWIDTH) if wide else n}{sep}”"


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
    text = text.translate(TO_ASCII)
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
            "filing_no": _balanced(filing.group(1)) if filing else None, "filed_on": filed}


def _balanced(number):
    """A filing number without the closing bracket of the sentence around it: （备案号：城规备〔2020〕12号） → 城规备〔2020〕12号."""
    while number and number[-1] in ")）" and number.count(number[-1]) > number.count("(" if number[-1] == ")" else "（"):
        number = number[:-1]
    return number


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
