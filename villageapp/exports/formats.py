"""The file formats of an export, each written as a stream of bytes (the first bytes leave at once, memory stays flat
however many rows): CSV in UTF-8 with BOM (Excel and WPS open the Chinese without garbling), XLSX and ZIP.

The XLSX writer is ours, on purpose: a worksheet is one XML part inside a zip, and we write it row by row with inline
strings straight into the zip stream. xlsxwriter's constant_memory mode, measured on 100,000 meeting rows, took 10× the
time of `sqlite-utils rows --csv` and only gives out bytes once the whole workbook is built; this writer takes ~1.3×
and streams (bench/exports.py). openpyxl reads what it writes (tests/test_exports.py)."""
import csv
import io
import re
import zipfile
from datetime import date, datetime
from operator import methodcaller
from xml.sax.saxutils import escape

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)
CHUNK = 64 * 1024


def csv_safe(value):
    """A cell as text that no spreadsheet runs: one starting with = + - @ tab or CR gets a leading ' (shown by
    Excel as the text itself). Numbers stay numbers."""
    if value.__class__ is str:  # most cells: a plain text
        return "'" + value if value[:1] in FORMULA_FIRST else value
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(row, source):
    """One export cell: a column of the row, or a function of it (a date said the Chinese way, a list joined)."""
    return source(row) if callable(source) else row.get(source)


def column_types(columns):
    return [column[2] if len(column) > 2 else "text" for column in columns]


def table_rows(columns, rows):
    """The cells of each row, by the columns ((header, source[, type]), …)."""
    getters = [column[1] if callable(column[1]) else methodcaller("get", column[1]) for column in columns]
    for row in rows:
        yield [get(row) for get in getters]


# ---- CSV ----------------------------------------------------------------------------------------------------------

def csv_chunks(header, rows, notice=None):
    """CSV bytes in chunks: BOM, the notice line (if any), the header, then the rows, every cell through csv_safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    if notice:
        writer.writerow([csv_safe(notice)])
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
        if out.tell() >= CHUNK:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


# ---- XLSX ---------------------------------------------------------------------------------------------------------

EPOCH = datetime(1899, 12, 30)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold (a hostile phone may send them)
STYLES = {"text": 0, "int": 0, "date": 2, "datetime": 3}
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
PARTS = {
    "[Content_Types].xml": XML_HEAD + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": XML_HEAD + (
        f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": XML_HEAD + (
        f'<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/></Relationships>'),
    # cell styles: 0 plain, 1 bold (header), 2 date, 3 date and time, 4 wrapped (the notice line)
    "xl/styles.xml": XML_HEAD + (
        f'<styleSheet xmlns="{MAIN}">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def _workbook(sheet):
    return XML_HEAD + (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                       f'<sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>')


CELL_LIMIT = 32767  # the most characters Excel keeps in one cell; a longer text makes it "repair" the file


def _text(value, ref=""):
    if not value.isprintable():  # only then can it hold a character XML refuses
        value = NOT_XML.sub("", value)
    if len(value) > CELL_LIMIT:
        value = value[:CELL_LIMIT]
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c{ref} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'


def letters(n):
    """Excel's column letters of the first n columns: A … Z, AA …"""
    out = []
    for i in range(1, n + 1):
        name = ""
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(65 + rest) + name
        out.append(name)
    return out


def _serial(value, kind):
    """An ISO date or date-time (or a date object) as Excel's day number; None when it is not one."""
    try:
        if isinstance(value, str):
            value = (date.fromisoformat(value[:10]) if kind == "date" else
                     datetime.fromisoformat(value.replace("T", " ")[:16]))
        if isinstance(value, datetime):
            delta = value - EPOCH
            return delta.days + delta.seconds / 86400
        if isinstance(value, date):
            return (value - EPOCH.date()).days
    except ValueError:
        return None
    return None


def _cell(value, kind, ref):
    """One cell; `ref` is its r="B7" attribute (Excel reads cells without it, but not every program does)."""
    if value.__class__ is str and kind == "text":  # most cells: a plain text
        return _text(value, ref) if value else ""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _text("是" if value else "否", ref)
    if isinstance(value, (int, float)):
        return f"<c{ref}><v>{value}</v></c>"
    if kind in ("date", "datetime"):
        serial = _serial(value, kind)
        if serial is not None:
            return f'<c{ref} s="{STYLES[kind]}"><v>{serial}</v></c>'
    return _text(str(value), ref)


def width(text, kind="text"):
    """A column's width in Excel's units: Chinese characters count double."""
    if kind == "date":
        return 12
    if kind == "datetime":
        return 17
    return min(60, max(6, sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text)) + 2))


def sheet_chunks(header, rows, types, notice=None, widths=None):
    """The worksheet XML in chunks: column widths, the header row frozen (below the notice line, if any), then the rows."""
    types = list(types)
    widths = widths or [width(h, kind) for h, kind in zip(header, types, strict=True)]
    top = 2 if notice else 1
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    head = (XML_HEAD + f'<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">'
            f'<pane ySplit="{top}" topLeftCell="A{top + 1}" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f'<cols>{cols}</cols><sheetData>')
    parts = [head]
    names = letters(len(types))
    if notice:
        parts.append(f'<row r="1"><c r="A1" s="4" t="inlineStr"><is><t>{escape(NOT_XML.sub("", notice))}</t></is></c></row>')
    parts.append(f'<row r="{top}">' + "".join(_text(str(h), f' r="{c}{top}" s="1"') for h, c in zip(header, names, strict=True))
                 + "</row>")
    size = 0
    for number, row in enumerate(rows, top + 1):
        line = f'<row r="{number}">' + "".join(_cell(v, kind, f' r="{c}{number}"')
                                               for v, kind, c in zip(row, types, names, strict=True)) + "</row>"
        parts.append(line)
        size += len(line)
        if size >= CHUNK:
            yield "".join(parts).encode("utf-8")
            parts, size = [], 0
    parts.append("</sheetData></worksheet>")
    yield "".join(parts).encode("utf-8")


def xlsx_chunks(header, rows, types, notice=None, sheet="Sheet1", widths=None):
    """An .xlsx workbook of one sheet, streamed: the zip's bytes leave as the rows are written."""
    zipped = ZipStream(compresslevel=1)
    for name, text in PARTS.items():
        yield from zipped.add(name, text.encode("utf-8"))
    sheet = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31] or "Sheet1"  # characters Excel refuses in a sheet's name
    yield from zipped.add("xl/workbook.xml", _workbook(sheet).encode("utf-8"))
    yield from zipped.add_chunks("xl/worksheets/sheet1.xml", sheet_chunks(header, rows, types, notice, widths))
    yield from zipped.close()


# ---- ZIP ----------------------------------------------------------------------------------------------------------

class _Sink:
    """A write-only, unseekable file for zipfile: it keeps what is written until taken (zipfile then writes data
    descriptors after each member, so nothing needs to be rewritten)."""

    def __init__(self):
        self.parts, self.size = [], 0

    def write(self, data):
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def tell(self):
        return self.size

    def flush(self):
        pass

    def take(self):
        data, self.parts = b"".join(self.parts), []
        return data


class ZipStream:
    """A zip written as it goes: each `add…` is a generator of the bytes ready so far."""

    def __init__(self, compresslevel=6):
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.names = set()

    def unique(self, name):
        """The name, with -2, -3… before the extension if it is already in the zip."""
        stem, dot, ext = name.rpartition(".") if "." in name.rsplit("/", 1)[-1] else (name, "", "")
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        self.names.add(candidate)
        return candidate

    def add(self, name, data, stored=False):
        info = zipfile.ZipInfo(self.unique(name), date_time=datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        yield self.sink.take()

    def add_chunks(self, name, chunks, stored=False):
        info = zipfile.ZipInfo(self.unique(name), date_time=datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        with self.zip.open(info, "w", force_zip64=True) as member:
            for chunk in chunks:
                member.write(chunk)
                if self.sink.parts:
                    yield self.sink.take()
        yield self.sink.take()

    def add_file(self, name, path, stored=False):
        def read():
            with open(path, "rb") as f:
                while block := f.read(CHUNK * 4):
                    yield block
        yield from self.add_chunks(name, read(), stored)

    def close(self):
        self.zip.close()
        yield self.sink.take()
