"""Wrong-password limits, kept in the directory database so they hold across worker processes.

Three limits, all within LOGIN_WINDOW_MINUTES:
- per account *and* address (LOGIN_MAX_FAILURES): a stranger who types wrong passwords for a cadre's username
  locks only their own address out of that account, never the cadre on their usual phone;
- per address across all accounts (LOGIN_MAX_FAILURES_PER_ADDRESS): one address cannot try password after password
  on many accounts. Only failures count, so correct sign-ins are never slowed, and a correct sign-in from an address
  clears that address's failures;
- per account from all unknown browsers together (LOGIN_MAX_FAILURES_PER_ACCOUNT): many addresses (a botnet) cannot
  each take their 5 guesses; the account can then be signed in only from browsers it has signed in on before.
Attempts refused because of a lock are not counted: a lock ends when its window has passed, however often one knocks.

Phones on a mobile network often share one public address (carrier NAT), so a stranger may type from the cadre's own
address. A browser an account has signed in on before is therefore counted as itself, not as its address (OWASP's
"device cookie"): it carries a signed cookie naming the accounts that signed in on it, and its attempts for those
accounts count against (account, this browser) only, untouched by what others on the same address do.
The `ip` column of login_failures holds the address, or `device:<id>` for such a browser."""
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from .clock import now, now_iso
from .store import write


def _window():
    return timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


DEVICE_COOKIE = "known_device"
DEVICE_DAYS = 365
DEVICE_ACCOUNTS = 5  # a phone shared by a few cadres knows each of them


def _devices():
    return URLSafeSerializer(current_app.secret_key, salt="villageapp.known-device")


def _device():
    """(id, usernames) of this browser's signed device cookie, or None."""
    try:
        data = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return None
    if isinstance(data, dict) and isinstance(data.get("n"), str) and isinstance(data.get("u"), list):
        return data["n"], data["u"]
    return None


def source(username):
    """Where an attempt to sign in as `username` counts: (key, known) — this browser if the account has signed in on it
    before (known=True), else the client's address."""
    device = _device()
    if device and username in device[1]:
        return f"device:{device[0]}", True
    return request.remote_addr or "unknown", False


def remember_device(response, username):
    """After a correct sign-in: this browser now knows `username` (the cookie goes only to /login)."""
    device_id, usernames = _device() or (secrets.token_urlsafe(16), [])
    usernames = ([u for u in usernames if u != username] + [username])[-DEVICE_ACCOUNTS:]
    response.set_cookie(DEVICE_COOKIE, _devices().dumps({"n": device_id, "u": usernames}),
                        max_age=DEVICE_DAYS * 24 * 3600, path=request.path, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def locked(directory, username, where, known=False):
    """None, or (kind, until) of the lock that lasts longest: kind is "account", "address" or "everywhere".
    `where` and `known` come from source(): a known browser is not held by its address's count."""
    config = current_app.config
    since = (now() - _window()).isoformat(timespec="seconds")
    checks = [("account", "username = ? and ip = ?", [username, where], config["LOGIN_MAX_FAILURES"])]
    if not known:
        checks.append(("address", "ip = ?", [where], config["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
        checks.append(("everywhere", "username = ? and ip not like 'device:%'", [username],
                       config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]))
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


def record_success(directory, ip, where):
    """A correct sign-in from an address clears that address's failures, and the browser's own if it is a known one
    (old rows of any address go too)."""
    old = (now() - timedelta(days=1) - _window()).isoformat(timespec="seconds")
    with write(directory):
        directory.execute("delete from login_failures where ip in (?, ?) or at < ?", [ip, where, old])


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
    elif kind == "everywhere":
        text = (f"这个账号最近在别处被输错密码的次数太多，暂时只能在以前登录过的手机上登录。请 {minutes} 分钟后（{at} 以后）"
                "再试，或请镇里的管理员重置密码。")
    else:
        text = f"从这个网络登录输错的次数太多，暂时锁定，请 {minutes} 分钟后（{at} 以后）再试。"
    return text, seconds
