"""Signing in (throttle, remember-me, deactivation) and the accounts town staff keep."""
from datetime import timedelta

from villageapp import store

from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, GUYAN, MINGXING, PASSWORD, csrf_from


def audit_rows(app, town, **where):
    with app.app_context():
        db = store.open_town(town, app)
        rows = list(db["audit"].rows_where(" and ".join(f"[{k}] = ?" for k in where) or None, list(where.values())))
        db.close()
    return rows


def test_login_lands_on_each_roles_home(client, auth):
    assert auth.login(MINGXING).headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/v/610922104201/home"
    assert "明星村" in client.get("/v/610922104201/home").text


def test_wrong_password_is_refused_in_chinese_and_keeps_the_username(client, auth):
    response = auth.login(MINGXING, "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不对" in response.text
    assert 'value="mingxing"' in response.text
    assert "还可以再试 4 次" in response.text


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, auth):
    for _ in range(5):
        auth.login(MINGXING, "wrong-password")
    response = auth.login(MINGXING)  # even the right password is refused while locked
    assert response.status_code == 429
    assert "暂时锁定" in response.text and "15 分钟" in response.text
    assert client.get("/v/610922104201/home").status_code == 302


def test_lock_ends_after_the_window(app, client, auth):
    for _ in range(5):
        auth.login(MINGXING, "wrong-password")
    with app.app_context():
        directory = store.open_directory(app)
        directory.execute("update login_failures set at = '2000-01-01T00:00:00+08:00'")
        directory.conn.commit()
    assert auth.login(MINGXING).status_code == 302


def test_remember_me_keeps_a_phone_logged_in_for_30_days(client, auth):
    response = auth.login(MINGXING, remember=True)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert "Max-Age=2592000" in cookie or "Expires=" in cookie
    assert client.application.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    # a new browser session (session cookie gone) is still signed in by the remember cookie
    client.delete_cookie("session")
    assert client.get("/v/610922104201/home").status_code == 200


def test_without_remember_me_no_remember_cookie(client, auth):
    response = auth.login(MINGXING, remember=False)
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]


def test_passwords_are_hashed(app):
    with app.app_context():
        row = next(store.open_directory(app)["users"].rows_where("username = ?", [MINGXING]))
    assert PASSWORD not in row["password_hash"] and row["password_hash"].startswith("$argon2id$")


def test_unsafe_next_is_ignored(client, auth):
    token = csrf_from(client.get("/login").text)
    response = client.post("/login?next=https://evil.example/", data={
        "username": MINGXING, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_safe_next_is_followed(client, auth):
    token = csrf_from(client.get("/login").text)
    response = client.post("/login?next=/v/610922104201/notices/", data={
        "username": MINGXING, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/v/610922104201/notices/"


def new_cadre(client, auth, **overrides):
    auth.login(CHIHE)
    token = auth.token(f"/t/{CHIHE_TOWN}/accounts/new")
    data = {"role": "cadre", "name": "王小红", "username": "wang.xh", "position": "委员",
            "villages": ["610922104202"], "phone": "13912345678", "password": "chushi-2026", "csrf_token": token}
    data.update(overrides)
    return client.post(f"/t/{CHIHE_TOWN}/accounts/new", data=data)


def test_town_staff_create_a_cadre_account_that_can_log_in(app, client, auth):
    response = new_cadre(client, auth)
    assert response.status_code == 302
    assert "王小红" in client.get(f"/t/{CHIHE_TOWN}/accounts/").text
    entries = audit_rows(app, CHIHE_TOWN, table="users", action="create")
    assert entries and entries[-1]["actor"] == CHIHE and "王小红" in entries[-1]["summary"]
    auth.logout()
    assert auth.login("wang.xh", "chushi-2026").status_code == 302
    assert client.get("/").headers["Location"] == "/v/610922104202/home"


def test_account_form_errors_are_chinese_and_keep_the_input(client, auth):
    response = new_cadre(client, auth, username="Bad Name!", villages=["610922104201", "610922104202"],
                         phone="12345", password="short")
    text = response.text
    assert response.status_code == 200
    for message in ("用户名用 3-30 个小写字母", "村干部只能属于一个村", "请填写11位手机号", "密码至少 8 位"):
        assert message in text
    assert 'value="王小红"' in text and 'value="Bad Name!"' in text


def test_duplicate_username_is_refused(client, auth):
    response = new_cadre(client, auth, username=MINGXING)
    assert "这个用户名已经有人用了" in response.text


def test_town_staff_cannot_give_a_cadre_a_village_of_another_town(client, auth):
    response = new_cadre(client, auth, villages=["610922100201"])
    assert response.status_code == 200
    assert "选的项目不在列表里" in response.text
    assert "wang.xh" not in client.get(f"/t/{CHIHE_TOWN}/accounts/").text


def _user_id(app, username):
    with app.app_context():
        return store.open_directory(app).execute("select id from users where username = ?", [username]).fetchone()[0]


def test_deactivated_account_is_signed_out_everywhere_and_cannot_log_in(app, auth):
    cadre = app.test_client()
    cadre_auth = type(auth)(cadre)
    cadre_auth.login(MINGXING)
    assert cadre.get("/v/610922104201/home").status_code == 200
    auth.login(CHIHE)
    uid = _user_id(app, MINGXING)
    response = auth.client.post(f"/t/{CHIHE_TOWN}/accounts/{uid}/active", data={"csrf_token": auth.token()})
    assert response.status_code == 302
    assert cadre.get("/v/610922104201/home").status_code == 302  # the old session is gone
    again = cadre_auth.login(MINGXING)
    assert "这个账号已停用" in again.text
    assert audit_rows(app, CHIHE_TOWN, action="deactivate")


def test_password_reset_ends_old_sessions(app, auth):
    cadre = app.test_client()
    type(auth)(cadre).login(MINGXING)
    auth.login(CHIHE)
    uid = _user_id(app, MINGXING)
    url = f"/t/{CHIHE_TOWN}/accounts/{uid}/password"
    response = auth.client.post(url, data={"password": "xin-mima-2026", "confirm": "xin-mima-2026",
                                           "csrf_token": auth.token(url)})
    assert response.status_code == 302
    assert cadre.get("/v/610922104201/home").status_code == 302
    assert type(auth)(app.test_client()).login(MINGXING, "xin-mima-2026").status_code == 302
    assert audit_rows(app, CHIHE_TOWN, action="reset_password")


def test_town_staff_cannot_manage_accounts_of_another_town(app, client, auth):
    auth.login(CHENGGUAN)
    uid = _user_id(app, MINGXING)
    assert client.get(f"/t/{CHIHE_TOWN}/accounts/{uid}/password").status_code == 404
    # nor reach another town's user through their own town's URL
    assert client.get(f"/t/610922100/accounts/{uid}/password").status_code == 404


def test_town_staff_cannot_reset_other_town_staff(app, client, auth):
    auth.login(CHIHE)
    assert client.get(f"/t/{CHIHE_TOWN}/accounts/{_user_id(app, CHIHE)}/password").status_code == 404


def test_own_password_change(client, auth):
    auth.login(GUYAN)
    token = auth.token()
    bad = client.post("/account/password", data={"current": "nope", "password": "xin-mima-2026",
                                                 "confirm": "xin-mima-2026", "csrf_token": token})
    assert "现在的密码不对" in bad.text
    mismatch = client.post("/account/password", data={"current": PASSWORD, "password": "xin-mima-2026",
                                                      "confirm": "other-2026", "csrf_token": token})
    assert "两次输入的密码不一样" in mismatch.text
    ok = client.post("/account/password", data={"current": PASSWORD, "password": "xin-mima-2026",
                                                "confirm": "xin-mima-2026", "csrf_token": token})
    assert ok.status_code == 302
    assert client.get("/v/610922100201/home").status_code == 200  # still signed in on this phone


def test_logout(client, auth):
    auth.login(MINGXING)
    assert auth.logout().status_code == 302
    assert client.get("/v/610922104201/home").status_code == 302


def test_county_admin_keeps_town_staff_accounts(app, client, auth):
    auth.login("admin")
    url = f"/t/{CHIHE_TOWN}/accounts/new"
    assert "镇干部" in client.get(url).text
    response = client.post(url, data={"role": "town", "name": "周丽", "username": "zhou.li", "password": "chushi-2026",
                                      "csrf_token": auth.token(url)})
    assert response.status_code == 302
    uid = _user_id(app, CHIHE)
    assert client.get(f"/t/{CHIHE_TOWN}/accounts/{uid}/password").status_code == 200
    auth.logout()
    assert auth.login("zhou.li", "chushi-2026").headers["Location"] == "/"
    assert client.get("/").headers["Location"] == f"/t/{CHIHE_TOWN}/"


def test_town_staff_cannot_make_town_staff_accounts(client, auth):
    response = new_cadre(client, auth, role="town", villages=[])
    assert response.status_code == 200 and "不是有效的选择" in response.text
    assert "wang.xh" not in client.get(f"/t/{CHIHE_TOWN}/accounts/").text


def test_adviser_needs_at_least_one_village(client, auth):
    response = new_cadre(client, auth, role="adviser", villages=[])
    assert "请至少选一个村" in response.text
