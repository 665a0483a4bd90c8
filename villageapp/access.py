"""Who may use which view: the @access decorator, the village/town scope of a URL,
and the answers to the wrong person (login redirect, 401/403 JSON, 404 outside one's scope)."""
import os
from functools import wraps

from flask import abort, g, jsonify, redirect, request, url_for
from flask_login import current_user

from . import shards, store

ROLES = {"county": "县级管理员", "town": "镇干部", "cadre": "村干部", "adviser": "法律顾问", "public": "公众"}
POSITIONS = ["书记", "主任", "委员", "监委会"]
VILLAGE_READERS = ("cadre", "adviser", "town", "county")  # who reads a village's records (only its cadres write)


def can_see_town(user, town_code):
    if not user.is_authenticated:
        return False
    return user.role == "county" or user.town_code == town_code


def can_see_village(user, village_code):
    if not user.is_authenticated:
        return False
    if user.role == "county":
        return True
    if user.role == "town":
        return user.town_code == village_code[:9]
    return village_code in user.villages


def _json_wanted():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def json_error(status, message, **extra):
    response = jsonify({"ok": False, "status": status, "error": message, **extra})
    response.status_code = status
    return response


def load_town(town_code):
    """Put the town's store in g (404 for an unknown town or a missing town file)."""
    if not store.TOWN_CODE.match(town_code or ""):
        abort(404)
    if not shards.serves(town_code):  # another server holds this town (villageapp serve --towns)
        abort(404)
    town = store.row(store.directory(), "select * from towns where code = ?", [town_code])
    if town is None or not os.path.exists(store.town_path(town_code)):
        abort(404)
    g.town = town
    g.db = store.town_db(town_code)


def load_village(village_code):
    if not store.VILLAGE_CODE.match(village_code or ""):
        abort(404)
    load_town(village_code[:9])
    village = store.row(g.db, "select * from villages where code = ?", [village_code])
    if village is None:
        abort(404)
    g.village = village


def access(*roles, scope=None):
    """Declare who may use a view. roles: any of county, town, cadre, adviser, public.
    scope="village" or "town" reads <village>/<town> from the URL; a signed-in user outside that scope gets 404,
    so a cadre cannot even learn whether another village's record exists."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if scope == "village":
                load_village(kwargs["village"])
            elif scope == "town":
                load_town(kwargs["town"])
            if "public" in roles:
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                if _json_wanted():
                    return json_error(401, "登录已过期，请重新登录")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if scope == "village" and not can_see_village(current_user, kwargs["village"]):
                abort(404)
            if scope == "town" and not can_see_town(current_user, kwargs["town"]):
                abort(404)
            if current_user.role not in roles:
                if _json_wanted():
                    return json_error(403, "您的账号没有这项权限")
                abort(403)
            return view(*args, **kwargs)
        wrapped.access_roles = roles
        wrapped.access_scope = scope
        return wrapped
    return decorator
