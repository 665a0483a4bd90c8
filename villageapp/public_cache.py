"""Rendered public pages kept for anonymous visitors (issue 14): a repeat view of a village's public page, a notice or
the rules text costs a stat and one index look-up instead of a render.

Key: the town file (device, inode: a restored file is another file), path + query (and the prefix a proxy gives),
the town's change stamp (max(audit.id): every state change writes an audit row in the same transaction, public
objections and synced edits included) and today's date (a 公示 ends, a notice dated today appears, as time passes).
Value: the response body (and its gzip), status and headers. The CSP nonce is per response: a page that used one is
kept with a marker in its place and gets a fresh nonce on every view, the same one as in its Content-Security-Policy
header. Signed-in people get the page rendered as before. At most MAX_PAGES pages per app (least recently used go
first).

The check runs before @access: a page is only kept after access let an anonymous visitor see it, and what access
looks at (the village's row, the town's file) is covered by the stamp and the file's identity."""
import gzip
import os
import secrets
import threading
from collections import OrderedDict
from functools import wraps

from flask import current_app, g, make_response, request, session
from flask_login import current_user

from . import clock, shards, store
from .compress import MIN_BYTES
from .headers import csp_nonce

MAX_PAGES = 256
KEPT_HEADERS = ("Content-Type", "Cache-Control", "X-Offline-Copy")
_MARKER = "nonce-" + secrets.token_hex(12)  # stands for the response's nonce in a kept page
_lock = threading.Lock()


class Pages(OrderedDict):
    """One app's kept pages, and how many were rendered for the cache / answered from it (the tests count them)."""
    def __init__(self):
        super().__init__()
        self.renders = self.hits = 0


def pages(app=None):
    app = app or current_app
    found = app.extensions.get("public_cache")
    if found is None:
        with _lock:
            found = app.extensions.setdefault("public_cache", Pages())
    return found


def _key(village):
    """None when this request cannot be answered from the cache (then the view decides: 404 and so on)."""
    town = (village or "")[:9]
    if not store.VILLAGE_CODE.match(village or "") or not shards.serves(town):
        return None
    try:
        stat = os.stat(store.town_path(town))
        stamp = store.town_db(town).conn.execute("select max(id) from audit").fetchone()[0]
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino, request.script_root, request.full_path, stamp, clock.today())


def _respond(entry):
    body, zipped, status, headers, has_nonce = entry
    if has_nonce:
        body = body.replace(_MARKER, csp_nonce())
    elif zipped is not None and "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response = make_response(zipped, status, headers)
        response.headers["Content-Encoding"] = "gzip"  # compress.py leaves it as it is
        response.vary.add("Accept-Encoding")
        return response
    return make_response(body, status, headers)


def _keep(key, response, nonce):
    body = response.get_data(as_text=True)
    if nonce:
        body = body.replace(nonce, _MARKER)
    raw = body.encode()
    zipped = gzip.compress(raw, compresslevel=6) if not nonce and len(raw) >= MIN_BYTES else None
    headers = [(name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers]
    kept = pages()
    with _lock:
        kept[key] = (body, zipped, response.status_code, headers, bool(nonce))
        while len(kept) > MAX_PAGES:
            kept.popitem(last=False)


def cached(view):
    """Put over @access("public", scope="village"): anonymous GETs answered from the cache."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        # no cookie at all: no session and no remember-me, so surely anonymous (and no user is loaded)
        if request.method != "GET" or (request.cookies and current_user.is_authenticated):
            return view(*args, **kwargs)
        key = _key(kwargs.get("village"))
        if key is None:
            return view(*args, **kwargs)
        kept = pages()
        with _lock:
            entry = kept.get(key)
            if entry is not None:
                kept.move_to_end(key)
                kept.hits += 1
        if entry is not None:
            return _respond(entry)
        response = make_response(view(*args, **kwargs))
        kept.renders += 1
        # a page that wrote to the session (a CSRF token, a flash) is this visitor's own: not kept
        if (response.status_code == 200 and not response.direct_passthrough and "Set-Cookie" not in response.headers
                and not session.modified):
            _keep(key, response, g.get("csp_nonce"))
        return response
    return wrapped
