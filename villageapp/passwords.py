"""Password hashes: the method, and how many hashes run at once.

METHOD is Argon2id with 7 MiB of memory, 5 passes, 1 lane: one of the equal-strength settings the OWASP Password
Storage Cheat Sheet gives as its minimum for Argon2id (with m=19 MiB t=2, m=12 MiB t=3, m=9 MiB t=4), the one that
costs the least CPU here: ~25 ms on this 2-core machine against ~33 ms for m=19 MiB t=2, and ~50–67 ms for the scrypt
this app used before (N=2**14, r=8, p=1, which is a fifth of OWASP's scrypt minimum N=2**14 r=8 p=5). So the change
is both cheaper per sign-in (50 cadres signing in at the start of a meeting) and harder for an attacker with a stolen
users table. Hashes of an older method (scrypt of any cost, werkzeug's pbkdf2, Argon2id of other parameters) are still
checked, and replaced by a METHOD hash at the account's next correct sign-in (auth.login).

At most PARALLEL hashes run at once in this process (default: one per core; `villageapp serve` with gunicorn gives each
worker its share of the cores): a burst of sign-ins queues here, cheaply blocked, while page views keep the CPU."""
import os
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from werkzeug.security import check_password_hash

MEMORY_KIB, PASSES, LANES = 7168, 5, 1
_hasher = PasswordHasher(time_cost=PASSES, memory_cost=MEMORY_KIB, parallelism=LANES, hash_len=32, salt_len=16,
                         type=Type.ID)
METHOD = f"$argon2id$v=19$m={MEMORY_KIB},t={PASSES},p={LANES}"  # how every hash made now begins

_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def limit(parallel):
    """At most `parallel` password hashes at once in this process (set before serving, not while requests run)."""
    global _slots
    _slots = threading.BoundedSemaphore(max(1, int(parallel)))


def make(password):
    with _slots:
        return _hasher.hash(password)


def check(stored, password):
    with _slots:
        return verify(stored, password)


def verify(stored, password):
    """Whether `password` matches `stored` (any method this app has used), without the slot: use check()."""
    if stored.startswith("$argon2"):
        try:
            return _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    try:
        return check_password_hash(stored, password)  # scrypt or pbkdf2 of werkzeug, before Argon2id
    except ValueError:  # a damaged hash (parameters werkzeug refuses): no sign-in, never a 500
        return False


def outdated(stored):
    """Whether a stored hash was made with another method or cost than METHOD (it is replaced at the next sign-in)."""
    return not stored.startswith(METHOD + "$")
