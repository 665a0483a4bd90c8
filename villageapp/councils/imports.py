"""Importing a council's roster from the cadres' sheet (.xlsx or CSV, one member a row): reading it, matching each
row to the village's register by name, and writing every new member in one transaction, or none.

A row names a resident of the village (是否本村村民 是, the usual case) or an outside member such as a 乡贤 or the
town's 包村干部 (否: no resident link). A name several residents share is left for the cadre to choose; a member
already on the roster is skipped, so the same sheet uploaded twice adds nobody twice."""
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from .. import audit, records
from ..clock import today
from ..registry.imports import group_name, phone_number
from ..registry.sheets import SheetError, cell_text, read_rows, workbook
from ..store import write
from .data import add_member, positions_for

MAX_BYTES = 2 * 1024 * 1024  # a roster of 200 rows is ~20 KB as .xlsx; a bigger file is something else
MAX_ROWS = 200
HEADER_SEARCH_ROWS = 10  # a title line ("红白理事会成员名单") above the header is common
COLUMNS = [  # key, the name cadres see, the headers accepted for it, required
    ("name", "姓名", ("姓名", "名字", "成员姓名"), True),
    ("position", "职务", ("职务", "职位", "担任职务"), True),
    ("since", "起始日期", ("起始日期", "任职日期", "任职时间", "开始日期", "起始时间", "任职起"), False),
    ("phone", "电话", ("电话", "联系电话", "手机", "手机号", "手机号码"), False),
    ("local", "是否本村村民", ("是否本村村民", "本村村民", "是否本村", "是否本村户籍", "本村户籍"), False),
    ("group", "组", ("组", "组别", "村民小组", "小组"), False),  # optional: tells two 张伟 apart
]
TEMPLATE_HEADERS = ["姓名", "职务", "起始日期", "电话", "是否本村村民"]
LABELS = {key: label for key, label, _aliases, _required in COLUMNS}
ALIASES = {alias: key for key, _label, aliases, _required in COLUMNS for alias in aliases}
REQUIRED = [key for key, _label, _aliases, required in COLUMNS if required]
MAX_LENGTH = {"name": 20, "position": 20, "since": 30, "phone": 30, "local": 10, "group": 20}
# what a sheet often says → the position the app offers; only used where the council has that position
SYNONYMS = {
    "会长": ("理事长", "主任委员"), "副会长": ("副理事长",), "秘书长": ("秘书",),
    "成员": ("会员", "理事", "委员", "组员", "成员代表"),
    "书记": ("党支部书记", "支部书记", "村支书", "支书", "村党支部书记"),
    "副书记": ("党支部副书记", "支部副书记"), "主任": ("村委会主任", "村主任"), "副主任": ("村委会副主任", "村副主任"),
    "委员": ("村委委员", "村委会委员", "支委", "支部委员", "两委委员"), "监委会主任": ("监督委员会主任", "村监委会主任"),
    "村民代表": ("代表",), "党员": ("正式党员",),
}
YES, NO = {"是", "是的", "本村", "√"}, {"否", "不是", "非本村", "外村", "×"}
NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z·]{1,20}")
DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
EXCEL_EPOCH = date(1899, 12, 30)  # a date cell saved as a plain number counts days from here
FIRST_YEAR = 1950


@dataclass
class Line:
    """One row of the sheet and what the import does with it."""
    line: int  # the row number Excel shows
    cells: dict  # key → the cell as text
    name: str = ""
    position: str = ""
    since: date | None = None
    phone: str | None = None
    local: bool = True
    resident: dict | None = None  # the resident the row names (resident rows, once known)
    candidates: list = field(default_factory=list)  # residents sharing the name (ambiguous rows)
    reasons: list = field(default_factory=list)  # what is wrong with the row, in Chinese: fix the sheet
    choice_problem: str | None = None  # what is wrong with the choice made on screen: choose again
    remarks: list = field(default_factory=list)  # said, not wrong (a different position on the roster …)
    on_roster: bool = False  # already a member (a term not ended): skipped

    @property
    def status(self):
        if self.reasons:
            return "error"
        if self.local and self.resident is None:
            return "ambiguous"
        return "skip" if self.on_roster else "new"


@dataclass
class Preview:
    lines: list
    written: bool = False

    def of(self, status):
        return [line for line in self.lines if line.status == status]

    @property
    def ready(self):
        return not self.of("error") and not self.of("ambiguous")


# ---- the file ----------------------------------------------------------------------------

def header_key(text):
    """The column a header names: stars, spaces and hints in brackets ("起始日期（如2024-01-05）") do not count."""
    return ALIASES.get(re.sub(r"[\s*＊:：]|[（(].*?[)）]", "", cell_text(text)))


def read_sheet(filename, data):
    """The rows as [(line, {key: text})]. Raises SheetError (Chinese) for a file that cannot be used."""
    if len(data) > MAX_BYTES:
        raise SheetError(f"文件太大（{len(data) / 1048576:.1f} MB，上限 {MAX_BYTES // 1048576} MB），不像一份名单。"
                         "请把名单复制到一个新建的表格里，另存为 .xlsx 再上传。")
    if not data:
        raise SheetError("文件是空的，没有读到任何内容。")
    try:
        lines = list(enumerate(read_rows(filename, data, MAX_ROWS + HEADER_SEARCH_ROWS + 1), start=1))
    except SheetError as error:  # the household import's words, said of a roster
        raise SheetError(str(error).replace("户籍名册", "名单")) from None
    start = columns = None
    for position, (line, cells) in enumerate(lines[:HEADER_SEARCH_ROWS]):
        found = {}
        for index, cell in enumerate(cells):
            key = header_key(cell)
            if key and key in found.values():
                raise SheetError(f"第 {line} 行表头里有两列都是“{LABELS[key]}”，请删掉一列再上传。")
            if key:
                found[index] = key
        if all(key in found.values() for key in REQUIRED):
            start, columns = position, found
            break
    if columns is None:
        if all(_blank(cells) for _line, cells in lines):
            raise SheetError("文件是空的，没有读到任何内容。")
        raise SheetError("没有找到表头。第一行要写列名：姓名、职务（必填），起始日期、电话、是否本村村民（可不填）。"
                         "可以下载模板对照。")
    rows = []
    for line, cells in lines[start + 1:]:
        if _blank(cells):
            continue  # Excel leaves empty rows behind deleted ones
        if len(rows) >= MAX_ROWS:
            raise SheetError(f"一次最多导入 {MAX_ROWS} 行，这个文件超过了。请分成几个文件，一个一个导入。")
        rows.append((line, {key: cell_text(cells[i]) if i < len(cells) else "" for i, key in columns.items()}))
    if not rows:
        raise SheetError("文件里只有表头，没有成员。")
    return rows


def _blank(cells):
    return all(cell_text(c) == "" for c in cells)


# ---- one row -------------------------------------------------------------------------------

def position_of(text, council):
    """The council's position a cell names (its own words or a common synonym), or None."""
    text = re.sub(r"\s", "", text)
    allowed = positions_for(council)
    if text in allowed:
        return text
    return next((p for p in allowed if text in SYNONYMS.get(p, ())), None)


def start_date(text):
    """(date, None), (None, None) for an empty cell, or (None, reason)."""
    text = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", text.strip())  # Excel's "2024/1/5 0:00"
    if not text:
        return None, None
    try:
        if re.fullmatch(r"\d{5}(\.0+)?", text):  # a date cell that lost its format: days since 1899-12-30
            day = EXCEL_EPOCH + timedelta(days=int(float(text)))
        elif re.fullmatch(r"\d{8}", text):
            day = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        else:
            match = DATE.fullmatch(text)
            if not match:
                return None, f"起始日期看不懂：{text[:20]}（写成 2024-01-05、2024/1/5 或 2024年1月5日；不清楚可以空着）"
            day = date(*map(int, match.groups()))
    except (ValueError, OverflowError):
        return None, f"起始日期不存在：{text[:20]}"
    latest = today() + timedelta(days=366)
    if not FIRST_YEAR <= day.year or day > latest:
        return None, f"起始日期要在 {FIRST_YEAR} 年到 {latest.year} 年之间（填的是 {text[:20]}）"
    return day, None


def read_line(line, cells, council):
    """A Line from a row's cells, with the reasons the row cannot be imported as written."""
    row = Line(line, cells)
    reasons = row.reasons
    for key, limit in MAX_LENGTH.items():
        if len(cells.get(key, "")) > limit:
            reasons.append(f"{LABELS[key]}太长（不超过 {limit} 个字）")
    if reasons:
        return row
    row.name = re.sub(r"[\s\u3000]", "", cells.get("name", "")).translate(str.maketrans("•・．.", "····"))
    if not row.name:
        reasons.append("没有填姓名")
    elif not NAME.fullmatch(row.name):
        reasons.append(f"姓名里有不该有的符号：{row.name}（只写汉字或字母，少数民族姓名中间可以用“·”）")
    typed = cells.get("position", "").strip()
    row.position = position_of(typed, council) or ""
    if not typed:
        reasons.append("没有填职务")
    elif not row.position:
        reasons.append(f"{council['name']}没有“{typed}”这个职务，只能填：{'、'.join(positions_for(council))}")
    row.since, problem = start_date(cells.get("since", ""))
    row.phone, phone_problem = phone_number(cells.get("phone", ""))
    reasons += [p for p in (problem, phone_problem) if p]
    local = re.sub(r"\s", "", cells.get("local", ""))
    if local and local not in YES | NO:
        reasons.append(f"是否本村村民只能填“是”或“否”（填的是 {local}）")
    row.local = local not in NO
    return row


# ---- the register and the roster ---------------------------------------------------------------

def register(db, village_code):
    """The village's residents by name, each with what tells two of the same name apart."""
    by_name = {}
    for r in db.query("""
            select r.uuid, r.name, r.birth_year, h.head_name, gr.name as group_name from residents r
            join households h on h.uuid = r.household_uuid left join groups gr on gr.uuid = h.group_uuid
            where r.village_code = ? order by gr.name, h.head_name, r.birth_year""", [village_code]):
        by_name.setdefault(r["name"], []).append(r)
    return by_name


def roster(db, council):
    """Who is on the roster now or from a later date (a term not ended): residents by UUID, others by name."""
    residents, others = {}, {}
    for m in db["council_members"].rows_where("council_uuid = ? and (until is null or until > ?)",
                                              [council["uuid"], today().isoformat()]):
        if m["resident_uuid"]:
            residents[m["resident_uuid"]] = m
        else:
            others[m["name"]] = m
    return residents, others


def check(db, council, rows, choices=None):
    """What importing the rows would do, every row checked against the register and the roster as they are now.
    choices: row number → the UUID of the resident the cadre chose for a shared name."""
    choices = choices or {}
    by_name, (members, others) = register(db, council["village_code"]), roster(db, council)
    lines, seen = [], {}
    for number, cells in rows:
        row = read_line(number, cells, council)
        lines.append(row)
        if row.reasons:
            continue
        if row.local:
            _match(row, by_name.get(row.name, []), cells.get("group", ""), choices.get(number))
        elif row.name in by_name:
            row.remarks.append(f"户籍名册里也有叫{row.name}的村民；这一行填了“否”，按非本村户籍的人加入")
        if row.status == "ambiguous":
            continue
        key = ("resident", row.resident["uuid"]) if row.resident else ("other", row.name)
        if key in seen:
            _twice(row, seen[key])
            continue
        seen[key] = row
        member = members.get(row.resident["uuid"]) if row.resident else others.get(row.name)
        if member:
            row.on_roster = True
            if member["position"] != row.position:
                row.remarks.append(f"名单上的职务是“{member['position']}”，不会改动；要换职务，请先在名单上办离任，再添加")
    return Preview(lines)


def _match(row, candidates, group, chosen):
    if group:
        named = candidates
        candidates = [c for c in candidates if c["group_name"] == group_name(group)]
        if named and not candidates:
            groups = "、".join(sorted({c["group_name"] or "未分组" for c in named}))
            row.reasons.append(f"{group_name(group)}没有叫{row.name}的村民（户籍名册里的{row.name}在：{groups}）")
            return
    if not candidates:
        row.reasons.append("户籍名册里没有这个人，请先在户籍里添加，或把“是否本村村民”填“否”")
    elif len(candidates) == 1:
        row.resident = candidates[0]
    else:
        row.candidates = candidates
        row.resident = next((c for c in candidates if c["uuid"] == chosen), None)
        if chosen and row.resident is None:
            row.choice_problem = "选的人不在这几位里，请重新选"


def _twice(row, first):
    """The same person on two rows: a choice to make again if one of them was chosen on screen, else a row to fix."""
    if row.candidates:
        row.resident, row.choice_problem = None, f"第 {first.line} 行已经是这一位了，请选另一位"
    else:
        row.reasons.append(f"和第 {first.line} 行是同一个人")


# ---- writing ---------------------------------------------------------------------------------

def commit(db, council, rows, choices, actor, filename, sha256):
    """Check the rows again and, when every row is ready, add the new members and the import's audit entry in one
    transaction; otherwise write nothing. Returns the Preview (written=True when written)."""
    with write(db):  # the check runs inside: a second tap of 确认导入 finds everyone on the roster already
        preview = check(db, council, rows, choices)
        if not preview.ready:
            return preview
        new = preview.of("new")
        if not new:
            preview.written = True  # done: everyone is on the roster already (a second tap of 确认导入)
            return preview
        for row in new:
            add_member(db, council, actor, row.name, row.position, since=row.since,
                       resident_uuid=row.resident["uuid"] if row.resident else None,
                       note=f"电话 {row.phone}" if row.phone else None)
        audit.record(db, actor, "import", "council_members", records.new_uuid(), council["village_code"],
                     after={"council": council["name"], "filename": filename, "sha256": sha256, "rows": len(rows),
                            "added": len(new), "skipped": len(preview.of("skip"))},
                     summary=f"导入{council['name']}名单 {filename}：新加入 {len(new)} 人，"
                             f"已在名单上 {len(preview.of('skip'))} 人")
    preview.written = True
    return preview


def template_xlsx(council):
    """The template: the headers, one example row with a position of this council, and a sheet of notes."""
    notes = [
        ("姓名", "必填。本村村民要和户籍名册里的姓名一样。"),
        ("职务", f"必填。{council['name']}的职务：{'、'.join(positions_for(council))}。"),
        ("起始日期", "可不填。写 2024-01-05、2024/1/5 或 2024年1月5日 都可以。"),
        ("电话", "可不填。11 位手机号，或带区号的座机号（如 0915-6321234）。"),
        ("是否本村村民", "填“是”或“否”，不填算“是”。乡贤、包村干部等不是本村户籍的人填“否”。"),
        ("组", "可以加这一列：本村有几位同名的人时，写上组（如“一组”）就知道是哪一位。"),
        ("", "示例那一行请删掉。有一行不对，整个文件都不导入，改好后重新上传即可；已在名单上的人不会重复添加。"),
    ]
    example = ["张德明", positions_for(council)[0], date(2024, 1, 5), "13912345678", "是"]
    return workbook("名单", TEMPLATE_HEADERS, [example], (10, 12, 14, 16, 14), notes, text_column="D", notes_width=14)
