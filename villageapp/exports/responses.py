"""Downloads as HTTP responses: streamed, named in Chinese (RFC 5987), never cached by the service worker or a proxy."""
from urllib.parse import quote

from flask import Response

from .formats import csv_chunks, table_rows

TYPES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "zip": "application/zip"}


def download(chunks, filename, fmt):
    """A streamed attachment. The bytes are made after the view has returned, when the request's store is already
    closed (Flask ends the app context even under stream_with_context): a generator that reads opens its own store
    (own_store) and needs nothing from the app or the request."""
    response = Response(chunks, mimetype=TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = TYPES[fmt]
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    response.headers["Content-Disposition"] = f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"   # nginx: pass the stream on as it comes
    return response


def csv_response(header, rows, filename):
    """A CSV download of header + rows, every cell through csv_safe."""
    return download(csv_chunks(header, rows), filename, "csv")


def kind_csv(kind, rows, filename):
    """A kind's records as a CSV download with its manifest's columns (kinds.Kind.export: Chinese header, column)."""
    return csv_response([column[0] for column in kind.export], table_rows(kind.export, rows), filename)


def own_store(town_code, make):
    """Run make(db) on a store of the town's file that the stream opens when it starts and closes when it ends
    (or when the person goes away), so the file can be read after the request is over."""
    from .. import store
    path = store.town_path(town_code)

    def chunks():
        db = store.open_db(path)
        try:
            yield from make(db)
        finally:
            db.close()
    return chunks()
