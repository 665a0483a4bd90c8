"""Every setting of villageapp as data: name, default and help.
The README lists them all (a test checks it); operators override them in instance/config.py or VILLAGEAPP_* env vars."""
from datetime import timedelta

SETTINGS = [
    # name, default, help
    ("SECRET_KEY", None, "Signs sessions and CSRF tokens. If unset, a random key is generated once into instance/secret_key."),
    ("MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024, "Largest accepted attachment (photo or PDF) in bytes."),
    ("MAX_CONTENT_LENGTH", 22 * 1024 * 1024, "Largest request body in bytes; bigger uploads get a Chinese 413 page."),
    ("MAX_IMPORT_ROWS", 20000, "Most rows accepted in one household/resident import file."),
    ("LOGIN_MAX_FAILURES", 5, "Wrong passwords allowed for one account from one address within LOGIN_WINDOW_MINUTES; "
     "then that account is locked for that address only (a stranger cannot lock a cadre out of their own phone)."),
    ("LOGIN_MAX_FAILURES_PER_ADDRESS", 20, "Wrong passwords allowed from one address across all accounts within "
     "LOGIN_WINDOW_MINUTES before that address is locked; a correct sign-in from the address clears its count."),
    ("LOGIN_MAX_FAILURES_PER_ACCOUNT", 50, "Wrong passwords for one account from all browsers it never signed in on, "
     "within LOGIN_WINDOW_MINUTES; then it can be signed in only on its usual phones until the window has passed."),
    ("LOGIN_WINDOW_MINUTES", 15, "Window and lock time of the wrong-password throttle, in minutes (answered with HTTP 429)."),
    ("REMEMBER_COOKIE_DURATION", timedelta(days=30), "How long 记住我 keeps a phone logged in (cadres work offline for days); "
     "the server ends the sign-in after this too."),
    ("SESSION_HOURS", 12, "How long a sign-in without 记住我 lasts on the server (the browser forgets it when closed)."),
    ("SECURE_COOKIES", None, "Send cookies only over https (Secure). Unset: on when PUBLIC_BASE_URL starts with https://."),
    ("TRUST_PROXY", 0, "Number of reverse proxies (nginx) in front of the app whose X-Forwarded-For/-Proto/-Host are trusted. "
     "Set 1 behind one nginx, else every sign-in seems to come from 127.0.0.1 and shares one wrong-password limit; "
     "leave 0 when the app faces the network itself, else anyone can fake their address."),
    ("PUBLIC_BASE_URL", "", "Absolute base URL printed in QR posters, e.g. https://cun.example.gov.cn; empty = the URL of the request."),
    ("COUNTY_NAME", "石泉县", "Name of the county shown in headers."),
    ("ASSETS_DEBUG", False, "Serve CSS/JS unbundled (development only)."),
    ("REPLICA_URL", "", "Where `villageapp replicate` (Litestream) streams directory.db and every town file, and where "
     "`villageapp restore --from-replica` reads them: s3://bucket/prefix (credentials from AWS_ACCESS_KEY_ID / "
     "AWS_SECRET_ACCESS_KEY) or a folder on another disk, file:///mnt/replica/villageapp."),
    ("REPLICA_ENDPOINT", "", "The S3-compatible store's address when it is not Amazon S3, e.g. https://oss-cn-hangzhou.aliyuncs.com "
     "or http://minio.lan:9000 (path-style requests); empty = Amazon S3."),
    ("TOWNS", "", "Serve only these towns (comma-separated 9-digit codes; `villageapp serve --towns`); the others answer 404 here. "
     "Empty: every town. For several servers that split a province by town (docs/scaling.md)."),
    ("SHARDS", "", "The shard map: a JSON file saying which server holds which town (default instance/shards.json); "
     "`villageapp shards nginx` writes nginx's routing from it, and the county page reads other servers' towns through it."),
]


def defaults():
    """The default config as a dict (None defaults are left out)."""
    return {name: value for name, value, _help in SETTINGS if value is not None}
