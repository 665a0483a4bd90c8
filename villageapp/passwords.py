"""Password hashes: the method, and how many hashes run at once.

METHOD is scrypt with N=2**14, r=8, p=1 (16 MiB): Colin Percival's parameters for interactive logins and Django's
ScryptPasswordHasher. Werkzeug's default (N=2**15, 32 MiB) costs 2.6× the CPU: ~130 ms against ~50 ms on this 2-core
machine, so 50 cadres signing in at the start of a meeting took 3–6 s of both cores before page views got a turn.
The trade-off: a stolen users table costs an attacker half as much per guess as with werkzeug's default.
Hashes of an older method (werkzeug's default, pbkdf2) are still checked, and replaced by a METHOD hash at the
account's next correct sign-in (auth.login).

At most PARALLEL hashes run at once in this process (default: one per core; `villageapp serve` with gunicorn gives each
worker its share of the cores): a burst of sign-ins queues here, cheaply blocked, while page views keep the CPU."""
import os
import threading

from werkzeug.security import check_password_hash, generate_password_hash

METHOD = "scrypt:16384:8:1"

_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def limit(parallel):
    """At most `parallel` password hashes at once in this process (set before serving, not while requests run)."""
    global _slots
    _slots = threading.BoundedSemaphore(max(1, int(parallel)))


def make(password):
    with _slots:
        return generate_password_hash(password, method=METHOD)


def check(stored, password):
    with _slots:
        return check_password_hash(stored, password)


def outdated(stored):
    """Whether a stored hash was made with another method or cost than METHOD (it is replaced at the next sign-in)."""
    return not stored.startswith(METHOD + "$")
