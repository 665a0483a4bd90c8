"""`villageapp serve`: gunicorn with a worker process per core and a few threads each where it can run (Linux,
macOS), waitress (one process, threads) elsewhere or with --server waitress.

One process holds one core at most (the GIL); gunicorn's workers use them all. What must hold across workers
lives in SQLite, never in a process's memory: sign-ins (sessions.py) and wrong-password counts (throttle.py) are
tables of the directory, and SQLite's write lock is shared by every process (store.write queues the writers of one
process in front of it). The app is built once in the master, which closes its SQLite connections before forking:
each worker opens its own."""
import os
import sys

import click

WAITRESS_THREADS = 8  # one process: its threads are all it has
# 8 per worker: a sign-in waiting for a hash slot (passwords.py) holds a thread, so with 4 a burst of 50 sign-ins
# left page views queued behind them (public page p95 51–369 ms during the burst; with 8: 7–13 ms). The price under a
# saturating mix of 50 cadres is ~8% more CPU per request (GIL contention): 12.1–13.9 → 12.9–14.9 ms (bench/cadres.py).
GUNICORN_THREADS = 8


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def gunicorn_available():
    if os.name != "posix":
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def run(app, host, port, server=None, workers=None, threads=None):
    """Serve `app` until SIGTERM or Ctrl+C (both finish the requests under way first)."""
    server = server or ("gunicorn" if gunicorn_available() else "waitress")
    if server == "gunicorn":
        if not gunicorn_available():
            raise click.UsageError("gunicorn is not installed here (or cannot run on this system): use --server waitress")
        workers = workers or cores()
        threads = threads or GUNICORN_THREADS
        click.echo(f"serving on http://{host}:{port}/ with gunicorn: {workers} workers × {threads} threads "
                   "(Ctrl+C to stop)")
    else:
        threads = threads or WAITRESS_THREADS
        click.echo(f"serving on http://{host}:{port}/ with waitress: {threads} threads  (Ctrl+C to stop)")
    sys.stdout.flush()
    if server == "gunicorn":
        _gunicorn(app, host, port, workers, threads)
    else:
        _waitress(app, host, port, threads)


def _waitress(app, host, port, threads):
    from waitress import serve as waitress_serve
    # TRUST_PROXY: the app reads X-Forwarded-* itself (ProxyFix); waitress would drop them as untrusted otherwise
    proxy = {"clear_untrusted_proxy_headers": False} if app.config.get("TRUST_PROXY") else {}
    waitress_serve(app, host=host, port=port, threads=threads, **proxy)


def _gunicorn(app, host, port, workers, threads):
    from gunicorn.app.base import BaseApplication

    from . import passwords, store

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers, "threads": threads, "worker_class": "gthread",
        # X-Forwarded-* are the app's business alone (TRUST_PROXY → ProxyFix), as with waitress: gunicorn trusts no peer
        # for them, so a request's scheme and address mean the same whichever server runs the app
        "forwarded_allow_ips": "", "secure_scheme_headers": {}, "forwarder_headers": "",
        "graceful_timeout": 20,  # SIGTERM: requests under way get this long to finish
        "control_socket_disable": True,  # no gunicornc socket in $HOME shared by every server of the machine
        "errorlog": "-", "loglevel": "warning", "accesslog": None,
        "proc_name": "villageapp",
    }
    # the hashes of a burst of sign-ins take at most the cores, whatever the workers × threads
    passwords.limit(max(1, cores() // workers))
    try:
        store.close_all()  # no SQLite connection crosses the fork
    except RuntimeError:  # outside an app context: nothing opened in it
        pass
    Application().run()
