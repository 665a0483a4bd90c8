"""Importing a village's household list (one row per resident) from the cadres' CSV or XLSX file:
every row is checked first, then all rows are written in one transaction, or none at all."""
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, has_app_context

from .. import audit, records, settings
from ..auth import PHONE
from ..clock import today
from ..store import write
from .data import add_household, add_resident
from .sheets import SheetError, cell_text, read_rows

COLUMNS = [  # key, the name cadres see, the headers accepted for it, required
    ("group", "组", ("组", "组别", "村民小组", "小组"), True),
    ("head", "户主", ("户主", "户主姓名"), True),
    ("name", "姓名", ("姓名", "成员姓名"), True),
    ("gender", "性别", ("性别",), False),
    ("birth", "出生年份", ("出生年份", "出生年月", "出生日期"), False),
    ("relation", "与户主关系", ("与户主关系", "关系"), False),
    ("address", "住址", ("住址", "家庭住址"), False),
    ("phone", "电话", ("电话", "联系电话", "手机", "手机号", "手机号码"), False),
]
LABELS = {key: label for key, label, _aliases, _required in COLUMNS}
ALIASES = {alias: key for key, _label, aliases, _required in COLUMNS for alias in aliases}
REQUIRED = [key for key, _label, _aliases, required in COLUMNS if required]
HEADER_SEARCH_ROWS = 10  # a title line or two ("明星村户籍花名册") above the header is common; look a bit further
MAX_LENGTH = {"group": 20, "head": 20, "name": 20, "relation": 10, "address": 100}
CN_NUMERALS = "〇一二三四五六七八九"
GROUP = re.compile(r"第?([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})(?:组|小组|村民小组)?")
BIRTH_PATTERNS = [  # 1965 · 1965年 · 1965-03 · 1965/3/2 · 1965.3 · 1965年3月 · 1965年3月2日 · 196503 · 19650302
    re.compile(r"(\d{4})年?"),
    re.compile(r"(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?|月)?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})?"),
]


@dataclass
class Row:
    line: int  # the row number Excel shows (the header is 1)
    values: dict  # column name → the cell as text
    reasons: list = field(default_factory=list)  # what is wrong, in Chinese


@dataclass
class Report:
    households: int = 0  # new households (written, or that would be written)
    residents: int = 0  # new residents (written, or that would be written)
    rejected: list = field(default_factory=list)
    error: str | None = None  # a problem with the whole file
    ignored: list = field(default_factory=list)  # headers not imported (序号, 身份证号 …)
    written: bool = False

    @property
    def ok(self):
        return self.error is None and not self.rejected


# ---- reading cells -----------------------------------------------------------------

def header_key(text):
    """The column a header names: stars, spaces and hints in brackets ("出生年份（如1965）") do not count."""
    cleaned = re.sub(r"[\s*＊:：]|[（(].*?[)）]", "", cell_text(text))
    return ALIASES.get(cleaned)


def group_name(text):
    """One spelling per group, the one the town's lists use: "1", "01", "1组", "第1组", "第一组",
    "1村民小组" all become "一组". Named groups ("河坝组") are kept as written."""
    cleaned = re.sub(r"\s", "", text)
    match = GROUP.fullmatch(cleaned)
    number = _number(match.group(1)) if match else None
    if number is None or not 1 <= number <= 99:
        return cleaned
    if number < 10:
        return CN_NUMERALS[number] + "组"
    tens, ones = divmod(number, 10)
    return (CN_NUMERALS[tens] if tens > 1 else "") + "十" + (CN_NUMERALS[ones] if ones else "") + "组"


def group_order(name):
    """Sort key putting 二组 before 十组 (plain text order would not)."""
    match = GROUP.fullmatch(name or "")
    number = _number(match.group(1)) if match else None
    return (number is None, number or 0, name or "")


def _number(text):
    if text.isdigit():
        return int(text)  # int() reads full-width digits too
    tens, ten, ones = text.partition("十")
    try:
        if not ten:
            return CN_NUMERALS.index(text) if len(text) == 1 else None
        if len(tens) > 1 or len(ones) > 1:
            return None
        return (CN_NUMERALS.index(tens) if tens else 1) * 10 + (CN_NUMERALS.index(ones) if ones else 0)
    except ValueError:
        return None


def birth_year(value):
    """(year, None) or (None, reason). Only the year is kept: it is what the register needs and
    the full birthday is personal data we have no use for."""
    if value is None or value == "":
        return None, None
    text = cell_text(value)
    if isinstance(value, (datetime, date)):
        year = value.year
    elif isinstance(value, int) and not isinstance(value, bool):
        year = value  # any size: a 400-digit number in a cell is refused by the range below, not float()
    elif isinstance(value, float):
        if not value.is_integer():  # NaN and infinity too
            return None, f"出生年份看不懂：{text[:20]}"
        year = int(value)
    else:
        year = _year_in_text(text)
        if year is None:
            return None, f"出生年份看不懂：{text}（写成 1965、1965-03 或 1965年3月）"
    last = today().year
    if not 1900 <= year <= last:
        return None, f"出生年份要在 1900 到 {last} 之间（填的是 {text[:20]}）"
    return year, None


def _year_in_text(text):
    text = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", text).replace(" ", "")  # Excel's "1965/3/2 0:00"
    for pattern in BIRTH_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (list(match.groups()) + [None, None])[:3]
            if month is not None and not 1 <= int(month) <= 12:
                return None
            if day is not None and not 1 <= int(day) <= 31:
                return None
            return int(year)
    return None


def phone_number(value):
    """(number, None) or (None, reason). Spaces and dashes inside a mobile number and a +86 prefix are dropped."""
    text = re.sub(r"[\s()（）]", "", cell_text(value))
    if not text:
        return None, None
    text = re.sub(r"^\+?86(?=1\d{10}$)", "", text)
    if re.fullmatch(r"1[\d-]{10,13}", text) and len(text.replace("-", "")) == 11:
        text = text.replace("-", "")
    if not PHONE.regex.match(text):
        return None, f"电话号码不对：{cell_text(value)}（11 位手机号，或带区号的座机号，如 0915-6321234）"
    return text, None


def check_row(raw):
    """One resident from a row's cells: (person, reasons)."""
    text = {key: cell_text(value) for key, value in raw.items()}
    reasons = []
    for key in REQUIRED:
        if not text.get(key):
            reasons.append(f"没有填{LABELS[key]}")
    for key, limit in MAX_LENGTH.items():
        if len(text.get(key, "")) > limit:
            reasons.append(f"{LABELS[key]}太长（不超过 {limit} 个字）")
    gender = text.get("gender", "").removesuffix("性")
    if gender not in ("", "男", "女"):
        reasons.append(f"性别只能填“男”或“女”（填的是 {text['gender']}）")
    year, problem = birth_year(raw.get("birth"))
    phone, phone_problem = phone_number(raw.get("phone"))
    reasons += [p for p in (problem, phone_problem) if p]
    name, head = text.get("name", ""), text.get("head", "")
    relation = text.get("relation", "")
    if relation == "本人" or (not relation and name == head):
        relation = "户主"
    if relation == "户主" and name and head and name != head:
        reasons.append(f"与户主关系填了“户主”，但姓名（{name}）和户主（{head}）不一样")
    person = {"group": group_name(text.get("group", "")), "head": head, "name": name, "gender": gender or None,
              "birth_year": year, "relation": relation or None, "address": text.get("address") or None,
              "phone": phone}
    return person, reasons


# ---- the file ------------------------------------------------------------------------

def _max_rows():
    if has_app_context():
        return current_app.config["MAX_IMPORT_ROWS"]
    return settings.defaults()["MAX_IMPORT_ROWS"]


def _blank(cells):
    return all(cell_text(c) == "" for c in cells)


def _header(cells):
    """(column index → key, ignored headers, a key named twice or None)."""
    columns, ignored, twice = {}, [], None
    for index, cell in enumerate(cells):
        key = header_key(cell)
        if key is None:
            if cell_text(cell):
                ignored.append(cell_text(cell))
        elif key in columns.values():
            twice = twice or key
        else:
            columns[index] = key
    return columns, ignored, twice


def read_table(filename, data, limit):
    """(rows as [(line, {key: cell})], ignored headers). Raises SheetError for a file that cannot be used."""
    # the title lines and the header come first, so one more than this means more than `limit` data rows;
    # every row read counts, blank ones too (read_rows refuses a file with more)
    lines = list(enumerate(read_rows(filename, data, limit + HEADER_SEARCH_ROWS + 1), start=1))
    first = header = None
    for position, (line, cells) in enumerate(lines):
        if _blank(cells):
            continue
        columns, ignored, twice = _header(cells)
        if twice:
            raise SheetError(f"第 {line} 行表头里有两列都是“{LABELS[twice]}”，请删掉一列再上传。")
        first = first or columns
        if all(key in columns.values() for key in REQUIRED):
            header = (position, columns, ignored)
            break
        if line >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise SheetError("文件是空的，没有读到任何内容。")
    if header is None:
        missing = "、".join(LABELS[key] for key in REQUIRED if key not in first.values())
        raise SheetError(f"表头缺少必填的列：{missing}。第一行要写列名（组、户主、姓名……），可以下载模板对照。")
    position, columns, ignored = header
    rows = []
    for line, cells in lines[position + 1:]:
        if _blank(cells):
            continue  # Excel leaves empty rows behind deleted ones; they are nobody
        if len(rows) >= limit:
            raise SheetError(f"一次最多导入 {limit} 行，这个文件超过了。请分成几个文件，一个一个导入。")
        rows.append((line, {key: cells[i] if i < len(cells) else None for i, key in columns.items()}))
    if not rows:
        raise SheetError("文件里只有表头，没有村民的数据。")
    return rows, ignored


class _Register:
    """The village's households and residents as they are now, read in two queries: looking each row up
    on its own scans the village's households again and again (seconds for a 20,000-row file)."""

    def __init__(self, db, village_code):
        self.households = {(r["group_name"], r["head_name"], r["address"] or ""): r["uuid"] for r in db.query(
            "select h.uuid, h.head_name, h.address, gr.name as group_name from households h "
            "join groups gr on gr.uuid = h.group_uuid where h.village_code = ?", [village_code])}
        self.people = set(db.execute("select household_uuid, name, birth_year from residents where village_code = ?",
                                     [village_code]).fetchall())

    def household(self, group, head, address):
        return self.households.get((group, head, address or ""))

    def has_resident(self, household_uuid, name, year):
        return (household_uuid, name, year) in self.people


def import_file(db, village_code, filename, data, actor, dry_run=False):
    """Check every row of the file and, unless dry_run or a row is rejected, write them all. Returns a Report."""
    report = Report()
    if db.execute("select 1 from villages where code = ?", [village_code]).fetchone() is None:
        report.error = f"没有这个村：{village_code}"
        return report
    try:
        rows, report.ignored = read_table(filename, data, _max_rows())
    except SheetError as error:
        report.error = str(error)
        return report
    register, plan, seen = _Register(db, village_code), {}, {}
    for line, raw in rows:
        person, reasons = check_row(raw)
        household_key = (person["group"], person["head"], person["address"] or "")
        person_key = (household_key, person["name"], person["birth_year"])
        if not reasons:
            if person_key in seen:
                reasons.append(f"和第 {seen[person_key]} 行重复（同一户、同名、同出生年份）")
            elif register.has_resident(register.household(*household_key), person["name"], person["birth_year"]):
                reasons.append("已在名册中")
        seen.setdefault(person_key, line)
        if reasons:
            report.rejected.append(Row(line, {LABELS[k]: cell_text(v) for k, v in raw.items()}, reasons))
        else:
            plan.setdefault(household_key, []).append(person)
    report.households = sum(1 for key in plan if register.household(*key) is None)
    report.residents = sum(len(people) for people in plan.values())
    if report.rejected or dry_run:
        return report
    with write(db):  # all rows and the import entry, or nothing
        _write(db, village_code, plan, actor)
        audit.record(db, actor, "import", "households", records.new_uuid(), village_code,
                     after={"filename": filename, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(rows),
                            "households": report.households, "residents": report.residents},
                     summary=f"导入 {filename}：新增 {report.households} 户 {report.residents} 人")
    report.written = True
    return report


def _write(db, village_code, plan, actor):
    register = _Register(db, village_code)  # looked up again inside the transaction
    for (group, head, address), people in plan.items():
        household_uuid = register.household(group, head, address)
        if household_uuid is None:
            head_row = next((p for p in people if p["name"] == head), {})
            household_uuid = add_household(db, village_code, group, head, actor, address=address or None,
                                           phone=head_row.get("phone"))["uuid"]
        for p in people:
            add_resident(db, household_uuid, p["name"], actor, gender=p["gender"], birth_year=p["birth_year"],
                         relation=p["relation"], phone=p["phone"])
