"""The spreadsheets cadres keep their household lists in: reading CSV (UTF-8 or the GBK that Chinese Excel
saves) and XLSX into plain rows, and writing the import template."""
import codecs
import csv
import io
import os
import warnings
import zipfile
from datetime import date, datetime

import openpyxl
from openpyxl.styles import Font

OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old binary Office files: .xls and .doc both start like this
ZIP_MAGIC = b"PK\x03\x04"
TEMPLATE_HEADERS = ["组", "户主", "姓名", "性别", "出生年份", "与户主关系", "住址", "电话"]
TEMPLATE_EXAMPLES = [
    ["一组", "张德明", "张德明", "男", 1965, "户主", "一组12号", "13912345678"],
    ["一组", "张德明", "李秀兰", "女", "1967-03", "配偶", "一组12号", ""],
]
TEMPLATE_NOTES = [
    ("组", "必填。写“一组”“1组”或“1”都可以，会统一成“一组”。"),
    ("户主", "必填。同一户的每个人都写同一个户主姓名。"),
    ("姓名", "必填。每人一行，户主本人也要占一行。"),
    ("性别", "可不填。只能写“男”或“女”。"),
    ("出生年份", "可不填。写 1965、1965-03、1965年3月 或日期都可以，只记年份。"),
    ("与户主关系", "可不填。户主本人不填也行，会记为“户主”。"),
    ("住址", "可不填。组、户主、住址都相同的行算同一户。"),
    ("电话", "可不填。11 位手机号，或带区号的座机号（如 0915-6321234）。"),
    ("", "身份证号等其他列不会导入，可以删掉。有一行不对，整个文件都不导入，改好后重新上传即可。"),
]


class SheetError(ValueError):
    """The file as a whole cannot be read; the message is Chinese and tells the cadre what to do."""


MAX_UNZIPPED = 30 * 1024 * 1024   # all parts of an .xlsx unpacked: 20,000 rows of a household list take ~10 MB
MAX_RATIO = 100                   # unpacked/packed for a big part: spreadsheet XML packs ~10:1, a bomb 1000:1
MAX_PARTS = 1000
MAX_COLUMNS = 60                  # cells read per row: a household list has 8 to 20 columns


def read_rows(filename, data, max_rows=None):
    """The rows of the file's first sheet as lists of cell values (str, int, float, date …). Every row read counts,
    blank or not, and reading stops with a SheetError past max_rows: a small .xlsx can claim a million rows."""
    ext = os.path.splitext(filename or "")[1].lower()
    if data.startswith(OLE_MAGIC) or ext in (".xls", ".doc", ".docx", ".wps", ".et"):
        raise SheetError("只能导入 .xlsx 或 .csv 文件。旧版 Excel（.xls）、WPS 或 Word 文件请先在 Excel/WPS 里"
                         "“另存为” .xlsx 再上传。")
    if ext == ".xlsx":
        return _xlsx_rows(data, max_rows)
    if ext == ".csv":
        return _csv_rows(data, max_rows)
    raise SheetError("只能导入 .xlsx 或 .csv 文件（在 Excel 里“另存为”时选这两种格式之一）。")


def _csv_rows(data, max_rows):
    if data.startswith(ZIP_MAGIC):
        raise SheetError("这个文件其实是 Excel 表格，不是 CSV。请把文件名的结尾改成 .xlsx，或在 Excel 里另存为 CSV。")
    text = _decode(data)
    if "\x00" in text:
        raise SheetError("文件打不开：内容不是文字表格。请在 Excel 里另存为 .xlsx 或 CSV 再上传。")
    first = text.split("\n", 1)[0]
    # Excel's "文本文件（制表符分隔）" is a common mis-save; a header with tabs and no commas is that
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return _take(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), max_rows)
    except csv.Error:
        raise SheetError("CSV 文件格式有误，读不出来。请在 Excel 里重新“另存为” CSV 或 .xlsx 再上传。") from None


def _decode(data):
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode 文本") or GB18030 (a superset of the
    GBK that Chinese Excel and WPS save by default). A GBK file almost never happens to be valid UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("文件里的文字编码认不出来（不是 UTF-8 也不是 GBK）。请在 Excel 里另存为 .xlsx 再上传。")


def _xlsx_rows(data, max_rows):
    unreadable = "Excel 文件打不开，可能已损坏或不是 .xlsx 格式。请在 Excel/WPS 里打开后重新“另存为” .xlsx 再上传。"
    # openpyxl raises zip, XML, key and value errors for a broken file: to a cadre they all mean the same,
    # and it warns about Excel features it drops (data validation, odd styles) that do not matter for reading
    _check_zip(data, unreadable)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise SheetError(unreadable) from None
        try:
            if not book.worksheets:
                raise SheetError("Excel 文件里没有工作表。")
            return _take(book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True), max_rows)
        except SheetError:
            raise
        except Exception:
            raise SheetError(unreadable) from None
        finally:
            book.close()


def _check_zip(data, unreadable):
    """An .xlsx is a zip: look at what it unpacks to BEFORE opening it. A 300 KB file can unpack to 300 MB (one huge
    shared string), which openpyxl would hold in memory whole. The sizes are the zip's own: Python's zip reader stops
    at the declared size of each part, so a part that lies about its size is refused as broken while it is read."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise SheetError(unreadable) from None
    total = sum(part.file_size for part in parts)
    bomb = any(part.file_size > 1024 * 1024 and part.file_size > MAX_RATIO * max(part.compress_size, 1) for part in parts)
    if len(parts) > MAX_PARTS or total > MAX_UNZIPPED or bomb:
        raise SheetError(f"这个 Excel 文件解开后太大（{total / 1048576:.0f} MB，上限 {MAX_UNZIPPED // 1048576} MB），"
                         "不像一份户籍名册。请把名册复制到一个新建的 Excel 文件里，另存为 .xlsx 再上传。")


def _take(rows, max_rows):
    """Rows until max_rows have been read, blank or not (a sheet can claim 200,000 empty rows: each costs time)."""
    taken = []
    for row in rows:
        if max_rows is not None and len(taken) >= max_rows:
            raise SheetError("文件的行数太多（空行也算），超过了一次能导入的行数。请删掉表格里多余的空行，"
                             "或把名册分成几个文件，一个一个导入。")
        taken.append(list(row))
    return taken


def cell_text(value):
    """A cell as the cadre sees it: 1965.0 → "1965", an Excel date → "1965-03-02", stray spaces gone."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip().strip("\ufeff\u200b").strip()


def template_xlsx():
    """The import template: the headers, two example rows and a sheet of notes (only the first sheet is read)."""
    return workbook("户籍名册", TEMPLATE_HEADERS, TEMPLATE_EXAMPLES, (8, 10, 10, 6, 10, 12, 16, 16), TEMPLATE_NOTES,
                    text_column="H", notes_width=12)


def workbook(title, headers, examples, widths, notes, text_column=None, notes_width=12):
    """An import template as .xlsx bytes: a bold header row and example rows on the sheet that is read (dates shown
    as 2024-01-05; text_column kept as text, so Excel keeps a landline's leading 0), and a 填写说明 sheet of
    (column, how to fill it) rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    for row in examples:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, (date, datetime)):
                cell.number_format = "yyyy-mm-dd"
    for n, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + n)].width = width
    if text_column:
        sheet.column_dimensions[text_column].number_format = "@"
    sheet_of_notes = book.create_sheet("填写说明")
    sheet_of_notes.append(["列", "怎么填"])
    for row in notes:
        sheet_of_notes.append(list(row))
    sheet_of_notes.column_dimensions["A"].width = notes_width
    sheet_of_notes.column_dimensions["B"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
