"""Security headers on every response: a strict Content-Security-Policy (scripts only from our own bundles, no inline
script, no eval), no MIME sniffing, no framing, no referrer to other sites, and HSTS when served over https.
A view that sets its own Content-Security-Policy (stored user files get `sandbox`) keeps it.
The few print pages that carry their own <style> mark it with nonce="{{ csp_nonce() }}"."""
import secrets

from flask import g, request

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
HSTS = "max-age=31536000"  # a year; only sent over https, so a plain-http test or LAN install is never pinned


def csp_nonce():
    """A random nonce for this response's inline <style> blocks (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def policy():
    parts = dict(POLICY)
    if "csp_nonce" in g:
        parts["style-src"] += f" 'nonce-{g.csp_nonce}'"
    return "; ".join(f"{name} {value}" for name, value in parts.items())


def add_headers(response):
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = policy()
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app):
    app.after_request(add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
