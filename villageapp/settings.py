"""Every setting of villageapp as data: name, default and help.
The README lists them all (a test checks it); operators override them in instance/config.py or VILLAGEAPP_* env vars."""
from datetime import timedelta

SETTINGS = [
    # name, default, help
    ("SECRET_KEY", None, "Signs sessions and CSRF tokens. If unset, a random key is generated once into instance/secret_key."),
    ("MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024, "Largest accepted attachment (photo or PDF) in bytes."),
    ("MAX_CONTENT_LENGTH", 22 * 1024 * 1024, "Largest request body in bytes; bigger uploads get a Chinese 413 page."),
    ("MAX_IMPORT_ROWS", 20000, "Most rows accepted in one household/resident import file."),
    ("LOGIN_MAX_FAILURES", 5, "Wrong passwords allowed for one account within LOGIN_WINDOW_MINUTES before it is locked for that window."),
    ("LOGIN_WINDOW_MINUTES", 15, "Window and lock time of the wrong-password throttle, in minutes."),
    ("REMEMBER_COOKIE_DURATION", timedelta(days=30), "How long 记住我 keeps a phone logged in (cadres work offline for days)."),
    ("PUBLIC_BASE_URL", "", "Absolute base URL printed in QR posters, e.g. https://cun.example.gov.cn; empty = the URL of the request."),
    ("COUNTY_NAME", "石泉县", "Name of the county shown in headers."),
    ("ASSETS_DEBUG", False, "Serve CSS/JS unbundled (development only)."),
]


def defaults():
    """The default config as a dict (None defaults are left out)."""
    return {name: value for name, value, _help in SETTINGS if value is not None}
