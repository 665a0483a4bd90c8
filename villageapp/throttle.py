"""Wrong-password limits, kept in the directory database so they hold across worker processes.

Two limits, both within LOGIN_WINDOW_MINUTES:
- per account *and* address (LOGIN_MAX_FAILURES): a stranger who types wrong passwords for a cadre's username
  locks only their own address out of that account, never the cadre on their usual phone;
- per address across all accounts (LOGIN_MAX_FAILURES_PER_ADDRESS): one address cannot try password after password
  on many accounts. Only failures count, so correct sign-ins are never slowed, and a correct sign-in from an address
  clears that address's failures.
Attempts refused because of a lock are not counted: a lock ends when its window has passed, however often one knocks."""
import math
from datetime import datetime, timedelta

from flask import current_app

from .clock import now, now_iso
from .db import write


def _window():
    return timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def locked(directory, username, ip):
    """None, or (kind, until) of the lock that lasts longest: kind is "account" or "address"."""
    config = current_app.config
    since = (now() - _window()).isoformat(timespec="seconds")
    checks = (("account", "username = ? and ip = ?", [username, ip], config["LOGIN_MAX_FAILURES"]),
              ("address", "ip = ?", [ip], config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
    found = None
    for kind, where, params, limit in checks:
        rows = directory.execute(f"select at from login_failures where {where} and at >= ? order by at desc limit ?",
                                 [*params, since, limit]).fetchall()
        if len(rows) >= limit:  # locked until the limit-th latest failure leaves the window
            until = datetime.fromisoformat(rows[-1][0]) + _window()
            if found is None or until > found[1]:
                found = (kind, until)
    return found


def record_failure(directory, username, ip):
    with write(directory):
        directory["login_failures"].insert({"username": username, "at": now_iso(), "ip": ip})


def failures_left(directory, username, ip):
    """How many more wrong passwords this address may type for this account before it is locked here."""
    since = (now() - _window()).isoformat(timespec="seconds")
    count = directory.execute("select count(*) from login_failures where username = ? and ip = ? and at >= ?",
                              [username, ip, since]).fetchone()[0]
    return current_app.config["LOGIN_MAX_FAILURES"] - count


def record_success(directory, ip):
    """A correct sign-in from an address clears that address's failures (old rows of any address go too)."""
    old = (now() - timedelta(days=1) - _window()).isoformat(timespec="seconds")
    with write(directory):
        directory.execute("delete from login_failures where ip = ? or at < ?", [ip, old])


def refusal(lock):
    """The Chinese message and the seconds to wait for a lock from locked()."""
    kind, until = lock
    seconds = max(1, math.ceil((until - now()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    at = until.astimezone(now().tzinfo).strftime("%H:%M")
    if kind == "account":
        limit = current_app.config["LOGIN_MAX_FAILURES"]
        text = (f"密码连续输错 {limit} 次，这个账号在这部手机（这个网络）上暂时锁定，请 {minutes} 分钟后（{at} 以后）再试，"
                "或请镇里的管理员重置密码。")
    else:
        text = f"从这个网络登录输错的次数太多，暂时锁定，请 {minutes} 分钟后（{at} 以后）再试。"
    return text, seconds
