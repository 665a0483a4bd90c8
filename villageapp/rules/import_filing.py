"""Filing an imported 村规民约 and the town's answer to it. An imported version is the rulebook's first (number 1),
origin 'imported', stage 'imported' (已有版本，待镇确认); it does not go through the procedure's steps. The town confirms
it (→ published, in force) or returns it with a reason (→ returned). A village whose import was returned corrects it
on the check screen or imports again: that replaces the returned version's text in place and keeps its number, since
a returned version was never in force (the audit keeps the earlier text and the town's reason)."""
from .. import audit, records
from ..clock import now_iso, today
from ..steps import StepRefused
from ..store import write
from . import data


class NotImportable(Exception):
    """str(error): why this village cannot import now (it has a rulebook made or in force already)."""


def importable(db, village_code):
    """(None, returned version or None) if the village may import now, else (reason, None)."""
    book = data.rulebook(db, village_code)
    rows = data.versions(db, book["uuid"]) if book else []
    if not rows:
        return None, None
    if len(rows) == 1 and rows[0]["origin"] == "imported" and rows[0]["stage"] == "returned":
        return None, rows[0]
    if len(rows) == 1 and rows[0]["stage"] == "imported":
        return "本村的村规民约已经导入，正在等镇里确认，不用再导入", None
    cur = data.current(db, book)
    if cur:
        return f"本村已经有第 {cur['number']} 版村规民约。要修改，请在村规民约页面点“发起修订”", None
    return "本村的村规民约正在办理中，不能再导入。请打开正在办理的那一版继续", None


def file_import(db, village, facts, actor):
    """Save the checked text in one write: the rulebook (its title), version 1 (or the returned one, replaced) and its
    articles, sorted 10, 20, …. facts: import_forms.form_data(). Raises NotImportable. Returns the version row."""
    with write(db):
        problem, returned = importable(db, village["code"])
        if problem:
            raise NotImportable(problem)
        book = data.ensure_rulebook(db, village, actor)
        if book["title"] != facts["title"]:
            records.update(db, "rulebooks", book["uuid"], {"title": facts["title"]}, actor, summary="导入：村规民约标题")
        columns = {"stage": "imported", "origin": "imported", "preamble": facts["preamble"] or None,
                   "adopted_on": facts["adopted_on"].isoformat(), "adopted_meeting": facts["adopted_meeting"],
                   "filing_no": facts["filing_no"] or None,
                   "filed_on": facts["filed_on"].isoformat() if facts["filed_on"] else None, "return_reason": None,
                   "effective_on": facts["effective_on"].isoformat() if facts.get("effective_on") else None}
        summary = f"导入本村原有的村规民约（{facts['adopted_meeting']}通过，{len(facts['articles'])} 条）"
        if returned:
            for old in data.articles(db, returned["uuid"]):
                old.pop("limit_values")
                db["rule_articles"].delete(old["uuid"])
                audit.record(db, actor, "delete", "rule_articles", old["uuid"], old["village_code"], old, None,
                             "重新导入，换掉退回的条文")
            version = records.update(db, "rule_versions", returned["uuid"], columns, actor, action="rule_import",
                                     summary="重新" + summary)
        else:
            version, _ = records.create(db, "rule_versions", {
                "village_code": village["code"], "rulebook_uuid": book["uuid"], "number": 1, "base_number": None,
                **columns}, actor, action="rule_import", summary=summary)
        for n, a in enumerate(facts["articles"], 1):
            records.create(db, "rule_articles", {
                "village_code": village["code"], "version_uuid": version["uuid"], "chapter": a["chapter"] or "",
                "sort": n * 10, "title": a["title"] or None, "body": a["body"], "limits": None}, actor,
                summary="导入条文")
    return version


def _answer(db, version, user, outcome, changes, summary, note=None):
    with write(db):
        before = db["rule_versions"].get(version["uuid"])
        if before["stage"] != "imported":
            raise StepRefused(f"第 {before['number']} 版现在不是“已有版本，待镇确认”，不用再确认或退回", 409)
        day = today().isoformat()
        db["rule_steps"].insert({"version_uuid": version["uuid"], "village_code": version["village_code"],
                                 "step": "imported", "outcome": outcome, "done_on": day, "note": note,
                                 "documents": None, "comments": None, "actor": user.username, "role": user.role,
                                 "created_at": now_iso()})
        after = records.update(db, "rule_versions", version["uuid"], changes(day), user.username,
                               action="rule_import_" + outcome, summary=summary)
        if after["stage"] == "published":
            book = db["rulebooks"].get(version["rulebook_uuid"])
            records.update(db, "rulebooks", book["uuid"], {"current_version": after["number"]}, user.username,
                           summary=f"第 {after['number']} 版（导入的原有版本）生效")
            _announce(db, book, after, user)
    return after


def _announce(db, book, version, user):
    """As a version made in the app is announced when published: a line on the 村务公开 board (村务) saying the text in
    force is now on the public page. It was adopted long ago, so the notice says when and by whom, not "现予公布"."""
    from ..clock import cn_date
    from ..notices import data as notices
    filed = f"，已报镇备案（{version['filing_no']}）" if version["filing_no"] else ""
    meeting = version["adopted_meeting"]
    when = "" if "年" in meeting else f"于{cn_date(version['adopted_on'], weekday=False)}"  # 2020年4月18日村民代表会议
    body = (f"本村现行的{book['title']}经{meeting}{when}通过{filed}。"
            "全文已经镇里核对，现在村务公开页上公布，点“村规民约全文”就能看到，也可以打印张贴。")
    notices.create_notice(db, version["village_code"], {
        "title": f"{book['title']}全文已在网上公布", "category": "村务", "body": body,
        "publish_date": version["published_on"], "end_date": None}, [], user.username)


def confirm(db, version, user):
    """The town confirms an imported version: it is published today and becomes the version in force."""
    return _answer(db, version, user, "confirmed", lambda day: {"stage": "published", "published_on": day},
                   f"镇里确认导入的村规民约第 {version['number']} 版")


def send_back(db, version, user, reason):
    """The town returns an imported version with its reason, which the cadre sees."""
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("退回时请写明理由，村里才知道要改什么", 422)
    return _answer(db, version, user, "returned", lambda day: {"stage": "returned", "return_reason": reason},
                   f"镇里退回导入的村规民约第 {version['number']} 版", note=reason)
