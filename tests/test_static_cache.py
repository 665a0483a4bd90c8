"""Static files are the same for everyone: no "Vary: Cookie" and no cookie set on them, logged in or not, so the
browser's cache and the service worker can hand them to a phone that restarts with a new session."""
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
