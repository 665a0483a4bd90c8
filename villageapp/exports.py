"""CSV files for Excel: UTF-8 with BOM (Excel opens the Chinese without garbling), and every cell that Excel or
WPS would read as a formula written as text instead (CSV injection, the OWASP rule)."""
import csv
import io

from flask import make_response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A cell as text that no spreadsheet runs: one starting with = + - @ tab or CR gets a leading ' (shown by
    Excel as the text itself). Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(header, rows, filename):
    """A CSV download of header + rows, every cell through csv_safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([csv_safe(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


def cell(row, source):
    """One export cell: a column of the row, or a function of it (a date said the Chinese way, a list joined)."""
    return source(row) if callable(source) else row.get(source)


def kind_csv(kind, rows, filename):
    """A kind's records as a CSV download with its manifest's columns (kinds.Kind.export: Chinese header, column)."""
    return csv_response([header for header, _source in kind.export],
                        ([cell(row, source) for _header, source in kind.export] for row in rows), filename)
