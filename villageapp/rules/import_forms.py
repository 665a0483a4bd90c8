"""Bringing in a village's existing 村规民约 (import_views.py): the paste/upload form, the check screen's form (every
article a row of a FieldList, so each button posts the whole screen and nothing typed is lost), and the edits its
buttons make on the rows: merge with the previous article, split at a blank line, start a new chapter, join the previous
chapter. Rows are plain dicts {chapter, label, title, body, new_chapter}."""
import re
from datetime import date

from werkzeug.datastructures import MultiDict
from wtforms import DateField, FieldList, FileField, FormField, HiddenField, StringField, TextAreaField
from wtforms import Form as RowForm
from wtforms.validators import Length, Optional

from ..clock import today
from ..forms import Form

MAX_ARTICLES = 300
BODY_MAX = 5000
TITLE_MAX = 60
CHAPTER_MAX = 40
ACTION = re.compile(r"^(merge|split|chapter|join)-(\d{1,3})$")
BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")
ARTICLE_LABEL = re.compile(r"^第.{1,8}条$")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(value):
    """A textarea's text: the browser's \\r\\n as \\n, outer blank lines gone (inner ones kept: they mark a split)."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


class ImportForm(Form):
    text = TextAreaField("把村规民约全文复制粘贴到这里", filters=[_text])
    file = FileField("或者选一个文件（Word 文件或文本文件）")


class ArticleRow(RowForm):
    chapter = HiddenField(filters=[_strip], validators=[Optional(), Length(max=CHAPTER_MAX, message="章名不超过 40 字")])
    label = HiddenField(filters=[_strip], validators=[Optional(), Length(max=20, message="原文编号太长")])
    title = StringField("条文标题（可不填）", filters=[_strip], validators=[
        Optional(), Length(max=40, message="标题不超过 40 字")])
    body = TextAreaField("条文内容", filters=[_text], validators=[
        Optional(), Length(max=BODY_MAX, message=f"一条不超过 {BODY_MAX} 字，太长请拆成几条")])
    new_chapter = StringField("新的一章叫什么", filters=[_strip], validators=[
        Optional(), Length(max=CHAPTER_MAX, message="章名不超过 40 字")])


class CheckForm(Form):
    title = StringField("标题", filters=[_strip], validators=[
        Optional(), Length(max=TITLE_MAX, message=f"标题不超过 {TITLE_MAX} 字")])
    preamble = TextAreaField("开头的话（序言，可不填）", filters=[_text], validators=[
        Optional(), Length(max=3000, message="序言不超过 3000 字")])
    articles = FieldList(FormField(ArticleRow), max_entries=MAX_ARTICLES)
    adopted_on = DateField("哪天通过的", validators=[Optional()], format="%Y-%m-%d")
    adopted_meeting = StringField("哪次会议通过的", filters=[_strip], validators=[
        Optional(), Length(max=60, message="不超过 60 字")])
    filing_no = StringField("备案编号（知道的话填）", filters=[_strip], validators=[
        Optional(), Length(max=40, message="编号不超过 40 字")])
    filed_on = DateField("备案日期（知道的话填）", validators=[Optional()], format="%Y-%m-%d")
    effective_on = DateField("从哪天起施行（原文写了的话填）", validators=[Optional()], format="%Y-%m-%d")


def row_count(formdata):
    """How many article rows a posted check screen holds (FieldList would quietly drop those beyond max_entries)."""
    return len({m.group(1) for key in formdata if (m := re.match(r"articles-(\d+)-", key))})


def from_parse(parsed):
    """The check screen's data from imports.parse(): rows as written, adoption facts from the closing lines."""
    adopted = date.fromisoformat(parsed["adopted_on"]) if parsed.get("adopted_on") else None
    meeting = parsed.get("meeting") or ""
    if meeting and adopted:
        meeting = f"{adopted.year}年{adopted.month}月{adopted.day}日{meeting}"
    return {"title": parsed.get("title") or "", "preamble": parsed.get("preamble") or "",
            "articles": [{"chapter": a.get("chapter") or "", "label": a.get("label") or "", "title": a.get("title") or "",
                          "body": a.get("body") or "", "new_chapter": ""} for a in parsed["articles"]],
            "adopted_on": adopted, "adopted_meeting": meeting, "filing_no": parsed.get("filing_no") or "",
            "filed_on": date.fromisoformat(parsed["filed_on"]) if parsed.get("filed_on") else None,
            "effective_on": date.fromisoformat(parsed["effective_on"]) if parsed.get("effective_on") else None}


def from_version(book, version, articles):
    """The check screen again from a version the town returned: the cadre corrects it and submits it again."""
    return {"title": book["title"], "preamble": version["preamble"] or "",
            "articles": [{"chapter": a["chapter"] or "", "label": "", "title": a["title"] or "", "body": a["body"],
                          "new_chapter": ""} for a in articles],
            "adopted_on": date.fromisoformat(version["adopted_on"]) if version["adopted_on"] else None,
            "adopted_meeting": version["adopted_meeting"] or "", "filing_no": version["filing_no"] or "",
            "filed_on": date.fromisoformat(version["filed_on"]) if version["filed_on"] else None,
            "effective_on": date.fromisoformat(version["effective_on"]) if version["effective_on"] else None}


def as_formdata(facts):
    """The check screen's facts as the names and values a browser sends, so a screen rebuilt after a button is read
    and checked exactly like the one posted (WTForms skips the length checks of fields given as data)."""
    pairs = [("title", facts["title"]), ("preamble", facts["preamble"])]
    for n, row in enumerate(facts["articles"]):
        pairs += [(f"articles-{n}-{k}", row[k]) for k in ("chapter", "label", "title", "body", "new_chapter")]
    pairs += [("adopted_on", facts["adopted_on"].isoformat() if facts["adopted_on"] else ""),
              ("adopted_meeting", facts["adopted_meeting"]), ("filing_no", facts["filing_no"]),
              ("filed_on", facts["filed_on"].isoformat() if facts["filed_on"] else ""),
              ("effective_on", facts["effective_on"].isoformat() if facts["effective_on"] else "")]
    return MultiDict(pairs)


def form_data(form):
    return {"title": form.title.data or "", "preamble": form.preamble.data or "",
            "articles": [{k: (row.form[k].data or "") for k in ("chapter", "label", "title", "body", "new_chapter")}
                         for row in form.articles],
            "adopted_on": form.adopted_on.data, "adopted_meeting": form.adopted_meeting.data or "",
            "filing_no": form.filing_no.data or "", "filed_on": form.filed_on.data, "effective_on": form.effective_on.data}


# ---- the check screen's buttons: each changes the rows and says what it did, or why not --------------------

def apply(rows, action):
    """Apply a button (merge-3, split-3, chapter-3, join-3) to the rows in place.
    Returns (row index, message, ok): the message goes next to that row."""
    match = ACTION.match(action or "")
    if not match:
        return None, None, False
    verb, i = match.group(1), int(match.group(2))
    if i >= len(rows) or (i == 0 and verb in ("merge", "join")):
        return None, "这一条已经不在了，请看一下现在的条文再点", False
    return {"merge": merge_up, "split": split, "chapter": new_chapter, "join": join_previous}[verb](rows, i)


def merge_up(rows, i):
    """Article i becomes the end of article i-1. A number as written such as 二、 or 2. is put back in front of its
    text (an item the reading took for an article); a 第七条 is not (two articles made one)."""
    before, row = rows[i - 1], rows.pop(i)
    keep_label = row["label"] and not ARTICLE_LABEL.match(row["label"])
    text = row["label"] + row["body"] if keep_label else row["body"]
    if row["title"] and not before["title"]:
        before["title"] = row["title"]
    elif row["title"]:
        text = f"{row['title']} {text}"
    before["body"] = "\n".join(t for t in (before["body"], text) if t)
    return i - 1, "已经和上一条合成一条", True


def split(rows, i):
    row = rows[i]
    parts = BLANK_LINE.split(row["body"], maxsplit=1)
    if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
        return i, ("要拆成两条：在这一条的文字里，要断开的地方按两下回车，空出一行，再点「拆成两条」。"
                   "空行前面是这一条，后面是新的一条"), False
    row["body"] = parts[0].strip()
    rows.insert(i + 1, {"chapter": row["chapter"], "label": "", "title": "", "body": parts[1].strip(), "new_chapter": ""})
    return i + 1, "已经拆开，这是拆出来的新的一条", True


def new_chapter(rows, i):
    name = rows[i]["new_chapter"]
    if not name:
        return i, "请先在「新的一章叫什么」里写上章名（如“社会治安”），再点「从这条起是新的一章」", False
    old = rows[i]["chapter"]
    j = i
    while j < len(rows) and rows[j]["chapter"] == old:
        rows[j]["chapter"] = name
        j += 1
    rows[i]["new_chapter"] = ""
    return i, f"从这一条起是「{name}」一章", True


def join_previous(rows, i):
    rows[i]["chapter"] = rows[i - 1]["chapter"]
    return i, f"这一条归入了「{rows[i]['chapter'] or '不分章'}」" if rows[i]["chapter"] else "这一条归入了上一章", True


# ---- what 确认导入 needs ------------------------------------------------------------------------------

def missing(form):
    """Put a Chinese message on each field 确认导入 needs and lacks; True if any."""
    problems = False

    def need(field, message):
        nonlocal problems
        field.errors = [*field.errors, message]
        problems = True

    if not form.title.data:
        need(form.title, "请填写标题，如“××村村规民约”")
    if not form.articles.entries:
        need(form.title, "没有任何条文，不能导入。请回到上一页重新粘贴全文")
    for row in form.articles:
        if not row.form.body.data:
            need(row.form.body, "这一条是空的：请写上内容，或点「和上一条合并」把它并掉")
    day = today()
    if not form.adopted_on.data:
        need(form.adopted_on, "请填写通过的日期（记不清哪天，就填大概的日子，在下面一栏写明）")
    elif form.adopted_on.data > day:
        need(form.adopted_on, "通过日期不能晚于今天")
    if not form.adopted_meeting.data:
        need(form.adopted_meeting, "请写明哪次会议通过的，如“2019年3月15日村民代表会议”")
    if form.filed_on.data and form.filed_on.data > day:
        need(form.filed_on, "备案日期不能晚于今天")
    elif form.filed_on.data and form.adopted_on.data and form.filed_on.data < form.adopted_on.data:
        need(form.filed_on, "备案日期不能早于通过日期")
    return problems
