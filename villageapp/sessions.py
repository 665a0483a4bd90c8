"""Sign-ins kept in the directory database. The session and remember-me cookies carry only a random token;
the row whose id is that token's SHA-256 must exist, be unexpired and not revoked, so signing out, a password reset
or a deactivation ends a sign-in on the server: a copied cookie stops working, and reactivating an account
does not bring its old cookies back."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from .clock import now, now_iso
from .store import write

KEEP_DAYS = 7  # ended and expired rows are kept this long (who was signed in when), then deleted


def _key(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _later(delta):
    return (now() + delta).isoformat(timespec="seconds")


def start(directory, user_id, remember, ip):
    """A new sign-in: 30 days (REMEMBER_COOKIE_DURATION) with 记住我, else SESSION_HOURS. Returns the cookie's token."""
    config = current_app.config
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else timedelta(hours=config["SESSION_HOURS"])
    token = secrets.token_urlsafe(32)
    with write(directory):
        directory.execute("delete from sessions where expires_at < ? or revoked_at < ?",
                          [_later(-timedelta(days=KEEP_DAYS))] * 2)
        directory["sessions"].insert({"id": _key(token), "user_id": user_id, "remember": 1 if remember else 0, "ip": ip,
                                      "created_at": now_iso(), "expires_at": _later(lifetime), "revoked_at": None})
    return token


def find(directory, token):
    """The live sign-in row of a cookie's token, or None."""
    if not token or len(token) > 100:
        return None
    return next(directory["sessions"].rows_where("id = ? and revoked_at is null and expires_at > ?",
                                                 [_key(token), now_iso()]), None)


def end(directory, token):
    with write(directory):
        directory.execute("update sessions set revoked_at = ? where id = ? and revoked_at is null", [now_iso(), _key(token)])


def end_all(directory, user_id):
    """End every sign-in of an account (password reset, deactivation)."""
    with write(directory):
        directory.execute("update sessions set revoked_at = ? where user_id = ? and revoked_at is null", [now_iso(), user_id])
