"""Static files are the same for everyone: no "Vary: Cookie" and no cookie set on them, logged in or not, so the
browser's cache and the service worker can hand them to a phone that restarts with a new session."""
import os

import pytest

from villageapp.assets import bundle_urls

from conftest import MINGXING


@pytest.mark.parametrize("logged_in", [False, True])
def test_bundles_icons_manifest_and_worker_do_not_vary_on_the_cookie(app, client, auth, logged_in):
    if logged_in:
        auth.login(MINGXING)
    for url in bundle_urls(app) + ["/static/icons/icon-192.png", "/manifest.webmanifest", "/sw.js"]:
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200, url
        assert "cookie" not in response.headers.get("Vary", "").lower(), (url, response.headers.get("Vary"))
        assert not response.headers.get_all("Set-Cookie"), url
    page = client.get("/outbox" if logged_in else "/login")
    assert "cookie" in page.headers.get("Vary", "").lower()  # pages still do


def test_the_worker_precaches_the_shell(app, client):
    worker = client.get("/sw.js").text
    for url in bundle_urls(app, ("css", "js")) + ["/offline", "/manifest.webmanifest", "/static/icons/icon-192.png"]:
        assert f'"{url}"' in worker.split("const SHELL_URLS =", 1)[1].split(";", 1)[0], url


def test_the_bundle_manifest_is_never_read_half_written(tmp_path):
    """A request reading webassets' manifest while another thread rewrites it (a bundle rebuilt) reads the old one
    or the new one, never a half-written file (EOFError was a rare 500 under load)."""
    import threading

    from villageapp.assets import AtomicFileManifest

    path = str(tmp_path / ".webassets-manifest")
    writer = AtomicFileManifest(path)
    writer.manifest = {f"gen/bundle{i}.%(version)s.js": "0123abcd" * 4 for i in range(2000)}
    writer._save_manifest()
    stop, errors = threading.Event(), []

    def rewrite():
        while not stop.is_set():
            writer._save_manifest()

    thread = threading.Thread(target=rewrite)
    thread.start()
    try:
        reader = AtomicFileManifest(path)
        for _ in range(300):
            try:
                reader._load_manifest()
                assert len(reader.manifest) == 2000
            except Exception as error:  # noqa: BLE001 - any failure to read is the bug
                errors.append(repr(error))
    finally:
        stop.set()
        thread.join()
    assert not errors, errors[:3]
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
