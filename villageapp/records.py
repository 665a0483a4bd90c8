"""Creating and changing records the same way everywhere: stable UUID, created/updated stamps,
version counter, and an audit entry in the same transaction."""
import uuid as uuidlib

from . import audit
from .clock import now_iso
from .store import insert_row, write
from .store import row as row_of


def new_uuid():
    return str(uuidlib.uuid4())


def valid_uuid(value):
    try:
        return str(uuidlib.UUID(str(value))) == str(value).lower()
    except ValueError:
        return False


class UuidTaken(ValueError):
    """A client sent a UUID that already names somebody else's record."""


def create(db, table, data, actor, action="create", summary=None):
    """Insert a record with the client's UUID. The same UUID sent again (a double tap, a re-sent form)
    returns the stored record instead of making a second one. Returns (row, created)."""
    pk = data.get("uuid") or new_uuid()
    with write(db):
        existing = by_uuid(db, table, pk)
        if existing is not None:
            if existing.get("village_code") != data.get("village_code") or existing["created_by"] != actor:
                raise UuidTaken(pk)  # never hand another village's or person's record back
            if actor is None and any(existing.get(k) != v for k, v in data.items() if k != "uuid"):
                raise UuidTaken(pk)  # anonymous senders are told apart by content: only an exact re-send matches
            return existing, False
        stamp = now_iso()
        row = {**data, "uuid": pk, "created_at": stamp, "updated_at": stamp, "created_by": actor, "version": 1}
        insert_row(db, table, row)
        row = by_uuid(db, table, pk)
        audit.record(db, actor, action, table, pk, row.get("village_code") or row.get("code"), None, row, summary)
    return row, True


def update(db, table, pk, changes, actor, action="update", summary=None):
    """Apply changes to one record, bump its version and audit before/after. Returns the new row."""
    with write(db):
        before = db[table].get(pk)
        stamp = now_iso()
        db[table].update(pk, {**changes, "updated_at": stamp, "version": (before.get("version") or 0) + 1})
        after = db[table].get(pk)
        # audited under the record's UUID even where the table's key is a code (villages), so its history is one list
        audit.record(db, actor, action, table, after.get("uuid") or pk, after.get("village_code") or after.get("code"),
                     before, after, summary)
    return after


def by_uuid(db, table, uuid):
    return row_of(db, f"select * from [{table}] where uuid = ?", [uuid])


def in_village_or_404(table, value, key="uuid", where="", params=()):
    """The row of `table` whose `key` is `value` and which belongs to the request's village (g.village), else 404:
    a record of another village answers as absent, so a URL cannot even tell it exists. `where` adds a condition."""
    from flask import abort, g
    clause = f"[{key}] = ? and village_code = ?" + (f" and ({where})" if where else "")
    row = next(g.db[table].rows_where(clause, [value, g.village["code"], *params]), None)
    if row is None:
        abort(404)
    return row
