"""Signing in and out (throttled, remember-me for phones), the current user, and the accounts
that town staff keep for their villages' cadres and legal advisers."""
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.exceptions import abort
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from . import audit, kinds, passwords, sessions, store, throttle
from .access import POSITIONS, ROLES, access
from .clock import now_iso
from .forms import Form, MultiCheckboxField, choices

bp = Blueprint("auth", __name__)
FEATURE = kinds.Feature("auth", bp)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = "basic"

PHONE = Regexp(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", message="请填写11位手机号，或带区号的座机号")


class User(UserMixin):
    def __init__(self, row, villages):
        self.row = row
        self.id = row["id"]
        self.username = row["username"]
        self.name = row["name"]
        self.role = row["role"]
        self.town_code = row["town_code"]
        self.position = row["position"]
        self.villages = villages
        self.session_token = None  # set when signed in: the token of this sign-in's row in the sessions table

    @property
    def is_active(self):
        return bool(self.row["active"])

    @property
    def role_label(self):
        return self.position if self.role == "cadre" and self.position else ROLES[self.role]

    def get_id(self):
        # what the session and remember-me cookies carry: a sign-in's token, never the account id itself
        return self.session_token


def load_user_row(directory, user_id):
    row = next(directory["users"].rows_where("id = ?", [user_id]), None)
    if row is None:
        return None
    villages = [r["village_code"] for r in directory["user_villages"].rows_where("user_id = ?", [user_id],
                                                                                 order_by="village_code")]
    return User(row, villages)


@login_manager.user_loader
def _load_user(token):
    directory = store.directory()
    signin = sessions.find(directory, token)
    if signin is None:
        return None
    user = load_user_row(directory, signin["user_id"])
    if user is None or not user.is_active:
        return None
    user.session_token = token
    return user


def sign_in(directory, user_id, remember):
    """Start a sign-in on the server and put its token in this browser's cookies."""
    user = load_user_row(directory, user_id)
    user.session_token = sessions.start(directory, user_id, remember, request.remote_addr)
    login_user(user, remember=remember, duration=current_app.config["REMEMBER_COOKIE_DURATION"])
    return user


# ---- data functions ----------------------------------------------------------

def create_user(directory, username, password, name, role, actor, town_code=None, villages=(), position=None,
                phone=None):
    if role not in ROLES or role == "public":
        raise ValueError(role)
    password_hash = passwords.make(password)  # slow on purpose: not while holding the write lock
    with store.write(directory):
        user_id = directory["users"].insert({
            "username": username, "password_hash": password_hash, "name": name, "role": role,
            "town_code": town_code, "position": position, "phone": phone, "active": 1,
            "created_at": now_iso(), "created_by": actor, "updated_at": now_iso(),
        }).last_pk
        directory["user_villages"].insert_all([{"user_id": user_id, "village_code": v} for v in villages])
    return user_id


def set_password(directory, user_id, password):
    """A new password ends every sign-in of the account (the caller may start a new one for this phone)."""
    password_hash = passwords.make(password)  # slow on purpose: before the write, not while holding the lock
    with store.write(directory):
        directory["users"].update(user_id, {"password_hash": password_hash, "updated_at": now_iso()})
        sessions.end_all(directory, user_id)


def upgrade_hash(directory, row, password):
    """After a correct sign-in: a hash of an older method or cost (passwords.outdated) is replaced by one of
    passwords.METHOD. Sign-ins stay; a password changed meanwhile (another hash in the row) is left alone."""
    if not passwords.outdated(row["password_hash"]):
        return
    password_hash = passwords.make(password)  # before the write, not while holding the lock
    with store.write(directory):
        directory.execute("update users set password_hash = ? where id = ? and password_hash = ?",
                          [password_hash, row["id"], row["password_hash"]])


def set_active(directory, user_id, active):
    """Deactivating ends every sign-in; reactivating does not bring old cookies back."""
    with store.write(directory):
        directory["users"].update(user_id, {"active": 1 if active else 0, "updated_at": now_iso()})
        sessions.end_all(directory, user_id)


# an unknown username is checked against this, so it costs the same time as a real one and tells nothing
_DUMMY_HASH = passwords.make(secrets.token_hex(16))


def audit_account(user_row, actor, action, summary):
    """Account changes go to the audit log of the account's town (the county's for county accounts)."""
    town_code = user_row["town_code"]
    db = store.town_db(town_code) if town_code else store.directory()
    with store.write(db):
        villages = ",".join(r["village_code"] for r in store.directory()["user_villages"].rows_where(
            "user_id = ?", [user_row["id"]]))
        audit.record(db, actor, action, "users", user_row["id"], villages.split(",")[0] or None,
                     summary=f"{summary}：{user_row['name']}（{user_row['username']}）")


# ---- sign in / out -------------------------------------------------------------

class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=40)])
    password = PasswordField("密码", validators=[DataRequired("请填写密码")])
    remember = BooleanField("在这部手机上保持登录 30 天", default=True)


def safe_next(target):
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@access("public")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        directory = store.directory()
        username, ip = form.username.data.strip(), request.remote_addr or "unknown"
        where, known = throttle.source(username)  # this phone if the account signed in on it before, else the address
        lock = throttle.locked(directory, username, where, known)
        if lock:
            text, seconds = throttle.refusal(lock)
            form.password.errors.append(text)
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(seconds)}
        row = next(directory["users"].rows_where("username = ?", [username]), None)
        password_ok = passwords.check(row["password_hash"] if row else _DUMMY_HASH, form.password.data)
        if row is None or not password_ok:
            throttle.record_failure(directory, username, where)
            left = throttle.failures_left(directory, username, where)
            form.password.errors.append("用户名或密码不对。" + (f"还可以再试 {left} 次。" if left > 0 else ""))
            return render_template("auth/login.html", form=form), 200
        if not row["active"]:
            form.username.errors.append("这个账号已停用，请联系镇里的管理员。")
            return render_template("auth/login.html", form=form), 200
        throttle.record_success(directory, ip, where)
        upgrade_hash(directory, row, form.password.data)
        sign_in(directory, row["id"], remember=form.remember.data)
        return throttle.remember_device(redirect(safe_next(request.args.get("next")) or url_for("home.index")), username)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access("county", "town", "cadre", "adviser")
def logout():
    sessions.end(store.directory(), current_user.session_token)
    logout_user()
    flash("已退出登录")
    return redirect(url_for("auth.login"))


class PasswordForm(Form):
    password = PasswordField("新密码", validators=[DataRequired("请填写新密码"), Length(min=8, max=64,
                                                   message="密码至少 8 位")])
    confirm = PasswordField("再输一次新密码", validators=[DataRequired("请再输一次"),
                                                  EqualTo("password", message="两次输入的密码不一样")])


class OwnPasswordForm(PasswordForm):
    current = PasswordField("现在的密码", validators=[DataRequired("请填写现在的密码")])


@bp.route("/account/password", methods=["GET", "POST"])
@access("county", "town", "cadre", "adviser")
def own_password():
    form = OwnPasswordForm()
    if form.validate_on_submit():
        if not passwords.check(current_user.row["password_hash"], form.current.data):
            form.current.errors.append("现在的密码不对")
        else:
            directory = store.directory()
            signin = sessions.find(directory, current_user.session_token)
            remember = bool(signin and signin["remember"])
            set_password(directory, current_user.id, form.password.data)  # signs out every other phone
            audit_account(current_user.row, current_user.username, "reset_password", "本人修改密码")
            sign_in(directory, current_user.id, remember=remember)  # and keeps this one signed in
            flash("密码已修改")
            return redirect(url_for("home.index"))
    return render_template("auth/password.html", form=form, subject=current_user.row, own=True)


# ---- accounts kept by town staff ----------------------------------------------------

class AccountForm(Form):
    role = SelectField("账号类型", choices=choices([("cadre", "村干部"), ("adviser", "村居法律顾问")]), default="cadre")
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=20, message="姓名不超过 20 个字")])
    username = StringField("用户名（登录用）", validators=[
        DataRequired("请填写用户名"),
        Regexp(r"^[a-z0-9_.-]{3,30}$", message="用户名用 3-30 个小写字母、数字或 _ . -，例如 zhang.mx")])
    position = SelectField("职务（村干部）", choices=choices([("", "—")] + [(p, p) for p in POSITIONS]), validators=[Optional()])
    villages = MultiCheckboxField("所在村（社区）")
    phone = StringField("手机号（可不填）", validators=[Optional(), PHONE])
    password = PasswordField("初始密码", validators=[DataRequired("请设一个初始密码"),
                                                 Length(min=8, max=64, message="密码至少 8 位")])

    def validate_username(self, field):
        if store.directory().execute("select 1 from users where username = ?", [field.data]).fetchone():
            raise ValidationError("这个用户名已经有人用了，请换一个")

    def validate_villages(self, field):
        if self.role.data in ("cadre", "adviser") and not field.data:
            raise ValidationError("请至少选一个村")
        if self.role.data == "cadre" and len(field.data) != 1:
            raise ValidationError("村干部只能属于一个村")

    def validate_position(self, field):
        if self.role.data == "cadre" and not field.data:
            raise ValidationError("请选择村干部的职务")


def manageable_roles(user):
    """Town staff keep their villages' cadres and advisers; the county also keeps the town staff."""
    return ("cadre", "adviser", "town") if user.role == "county" else ("cadre", "adviser")


def _town_account(user_id):
    """An account of the URL's town that the current user may manage, or 404."""
    user = load_user_row(store.directory(), user_id)
    if user is None or user.town_code != g.town["code"] or user.role not in manageable_roles(current_user):
        abort(404)
    return user


@bp.route("/t/<town>/accounts/")
@access("town", "county", scope="town")
def accounts(town):
    directory = store.directory()
    users = list(directory.query(
        "select u.*, group_concat(uv.village_code) as village_codes from users u "
        "left join user_villages uv on uv.user_id = u.id where u.town_code = ? "
        "group by u.id order by u.active desc, u.role, u.name", [town]))
    villages = {v["code"]: v["name"] for v in g.db["villages"].rows}
    return render_template("auth/accounts.html", users=users, villages=villages, roles=ROLES,
                           manageable=manageable_roles(current_user))


@bp.route("/t/<town>/accounts/new", methods=["GET", "POST"])
@access("town", "county", scope="town")
def new_account(town):
    form = AccountForm()
    form.role.choices = choices((r, ROLES[r]) for r in manageable_roles(current_user))
    form.villages.choices = choices((v["code"], v["name"]) for v in g.db["villages"].rows_where(order_by="code"))
    if form.validate_on_submit():
        directory = store.directory()
        villages = form.villages.data if form.role.data != "town" else []
        user_id = create_user(directory, form.username.data, form.password.data, form.name.data.strip(),
                              form.role.data, current_user.username, town_code=town, villages=villages,
                              position=form.position.data if form.role.data == "cadre" else None,
                              phone=form.phone.data or None)
        audit_account(directory["users"].get(user_id), current_user.username, "create", "新建账号")
        flash(f"账号 {form.username.data} 已建好，请把初始密码当面告诉本人")
        return redirect(url_for("auth.accounts", town=town))
    return render_template("auth/account_new.html", form=form)


@bp.route("/t/<town>/accounts/<int:user_id>/password", methods=["GET", "POST"])
@access("town", "county", scope="town")
def reset_password(town, user_id):
    subject = _town_account(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        set_password(store.directory(), user_id, form.password.data)
        audit_account(subject.row, current_user.username, "reset_password", "重置密码")
        flash(f"{subject.name} 的密码已重置，这个账号在各部手机上需要重新登录")
        return redirect(url_for("auth.accounts", town=town))
    return render_template("auth/password.html", form=form, subject=subject.row, own=False)


@bp.route("/t/<town>/accounts/<int:user_id>/active", methods=["POST"])
@access("town", "county", scope="town")
def toggle_active(town, user_id):
    subject = _town_account(user_id)
    active = not subject.is_active  # CSRFProtect has checked the token of every POST
    set_active(store.directory(), user_id, active)
    audit_account(subject.row, current_user.username, "activate" if active else "deactivate",
                  "启用账号" if active else "停用账号")
    flash(f"{subject.name} 的账号已{'启用' if active else '停用'}")
    return redirect(url_for("auth.accounts", town=town))

