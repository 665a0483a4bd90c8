"""gzip for text responses (pages, CSS, JS, JSON): a villager on 3G downloads a third of the bytes.
A reverse proxy may do this instead; the app does it too so a bare `villageapp serve` is light."""
import gzip

from flask import request

TYPES = {"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
         "application/manifest+json", "image/svg+xml", "text/plain", "text/csv"}
MIN_BYTES = 500


def compress(response):
    generator = response.is_streamed and not response.direct_passthrough  # a real stream: leave it alone
    if (response.status_code != 200 or response.mimetype not in TYPES or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "").lower() or generator):
        return response
    response.direct_passthrough = False  # static files come as a file wrapper: read them to compress
    data = response.get_data()
    if len(data) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def init_app(app):
    app.after_request(compress)
