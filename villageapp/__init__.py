"""villageapp: the app factory. Config, extensions and blueprints are set up here, top to bottom."""
import os
import secrets

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
csrf = CSRFProtect()


def create_app(test_config=None):
    instance_path = os.environ.get("VILLAGEAPP_INSTANCE_PATH") or os.path.join(ROOT, "instance")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path), instance_relative_config=True,
                template_folder=os.path.join(ROOT, "templates"), static_folder=os.path.join(ROOT, "static"))
    os.makedirs(app.instance_path, exist_ok=True)

    # config: defaults (settings.py) → instance/config.py → VILLAGEAPP_* env vars → test_config
    app.config.from_mapping(settings.defaults())
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("VILLAGEAPP")
    if test_config:
        app.config.from_mapping(test_config)
    app.config.setdefault("WTF_I18N_ENABLED", False)  # WTForms’ own zh messages, no Babel needed
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form left open offline for days must still post
    # cookies: HttpOnly, SameSite=Lax (Flask defines SESSION_COOKIE_SAMESITE as None: setdefault would do nothing),
    # Secure when the public address is https
    secure = app.config.get("SECURE_COOKIES")
    if secure is None:
        secure = app.config["PUBLIC_BASE_URL"].lower().startswith("https://")
    for cookie in ("SESSION", "REMEMBER"):
        app.config.update({f"{cookie}_COOKIE_SAMESITE": "Lax", f"{cookie}_COOKIE_HTTPONLY": True,
                           f"{cookie}_COOKIE_SECURE": bool(secure)})
    if app.config["TRUST_PROXY"]:  # behind nginx: the client's address and https come from X-Forwarded-* headers
        hops = int(app.config["TRUST_PROXY"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)

    from . import assets, auth, compress, store
    store.init_app(app)
    csrf.init_app(app)
    auth.login_manager.init_app(app)
    assets.init_app(app)
    compress.init_app(app)
    from . import headers
    headers.init_app(app)

    from . import routing
    routing.init_app(app)  # <int:> bounded to SQLite's range, before any blueprint adds its rules
    # the features, in order: each a blueprint with the kinds of record it owns (see kinds.py). A new feature is one line here
    from . import audit, conflicts, councils, exports, home, kinds, meetings, notices, pwa, ratings, registry, reviews, rules, sync
    kinds.init_app(app, [module.FEATURE for module in (home, auth, registry, notices, councils, meetings, rules, reviews,
                                                       ratings, audit, exports, sync, conflicts, pwa)])
    from . import desk
    kinds.registry(app).add(app, desk.FEATURE)  # the town desk and the county overview, read from every feature above

    app.get_send_file_max_age = _static_max_age
    _register_template_helpers(app)
    _register_errors(app)
    from . import cli
    cli.init_app(app)
    return app


def _static_max_age(filename):
    """Bundles have content-hashed names: cache them for a year. Icons for a day. Others: revalidate."""
    if filename and filename.replace("\\", "/").startswith("gen/"):
        return 365 * 24 * 3600
    if filename and filename.startswith("icons/"):
        return 24 * 3600
    return None


def _instance_secret(instance_path):
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(secrets.token_hex(32))
        os.chmod(path, 0o600)
    with open(path) as f:
        return f.read().strip()


def _register_template_helpers(app):
    from .access import ROLES
    from .clock import cn_date, cn_datetime, today

    app.jinja_env.filters["cn_date"] = cn_date
    app.jinja_env.filters["cn_datetime"] = cn_datetime

    @app.context_processor
    def globals_():
        return {"county_name": app.config["COUNTY_NAME"], "role_names": ROLES, "today": today()}


def _register_errors(app):
    from .access import json_error

    messages = {
        400: ("请求有误", "提交的内容不完整或已过期，请返回上一页刷新后再试。"),
        403: ("没有权限", "您的账号不能使用这个页面。如需要，请联系镇里的管理员。"),
        404: ("找不到这个页面", "网址可能输错了，或者这个村、这条记录不存在。"),
        405: ("操作方式不对", "请从页面上的按钮进入。"),
        413: ("文件太大", "上传的文件太大了。照片和 PDF 每个不超过 5 MB，请缩小后再传。"),
        500: ("出错了", "服务器出了点问题，您填的内容没有丢，请稍后再试。"),
    }

    def handler(error):
        code = getattr(error, "code", 500) or 500
        title, text = messages.get(code, messages[500])
        if request.path.startswith("/api/"):
            return json_error(code, title)
        return render_template("error.html", code=code, title=title, text=text), code

    for code in messages:
        app.register_error_handler(code, handler)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        text = "页面停留太久或已在别处登录，请刷新页面后再提交一次（填写的内容请先复制保存）。"
        if request.path.startswith("/api/"):
            return json_error(400, text)
        return render_template("error.html", code=400, title="请刷新后再提交", text=text), 400
