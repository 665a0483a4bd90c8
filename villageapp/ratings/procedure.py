"""A campaign's procedure as data and one function: 自评/推荐 (entries) → 评议 (reviewers score, offline) → 考核 (results
computed; adjusted only with a written reason) → 公示 (one notice through 村务公开, with objections) → 确认 (after the
period, every objection answered) → 上报 → the town confirms or returns → 挂牌. And 摘星 on an award. take_step refuses
a step out of order or by the wrong role with a Chinese reason; every step is written and audited under the write lock."""
import json
from datetime import timedelta

from .. import records
from ..clock import now_iso, today
from ..steps import StepRefused, check_role_and_stage
from ..store import write
from . import data

# step: (words, roles, stages it may be taken in)
STEPS = {
    "score": ("开始评议打分", ("cadre",), ("apply",)),
    "check": ("考核（算出结果）", ("cadre",), ("scoring",)),
    "publicize": ("公示", ("cadre",), ("checked",)),
    "confirm": ("确认结果", ("cadre",), ("publicity",)),
    "report": ("上报镇里", ("cadre",), ("confirmed",)),
    "approve": ("镇里确认", ("town",), ("reported",)),
    "return": ("退回村里", ("town",), ("reported",)),
    "plaque": ("挂牌", ("cadre",), ("approved",)),
}
STAGES = {"apply": "申请和推荐", "scoring": "评议打分中", "checked": "已考核，待公示", "publicity": "公示中",
          "confirmed": "已确认，待上报", "reported": "已上报，待镇里确认", "approved": "镇里已确认，待挂牌", "plaqued": "已挂牌"}


def check(campaign, step, role):
    check_role_and_stage(STEPS, STAGES, campaign, step, role, "这次评选")


def take_step(db, campaign, step, user, note=None, on=None):
    """Take one step as `user` on the day `on` (default today: the demo writes last year's steps on their days);
    returns the campaign after it."""
    day = on or today()
    with write(db):
        campaign = data.campaign(db, campaign["village_code"], campaign["uuid"])  # read again under the lock
        check(campaign, step, user.role)
        changes = globals()["_" + step](db, campaign, user, note, day)
        row = records.update(db, "campaigns", campaign["uuid"], changes, user.username, action=f"campaign_{step}",
                             summary=f"{campaign['name']}·{STEPS[step][0]}" + (f"：{note}" if note else ""))
        db["campaign_steps"].insert({"campaign_uuid": campaign["uuid"], "village_code": campaign["village_code"],
                                     "step": step, "done_on": day.isoformat(), "note": note, "actor": user.username,
                                     "role": user.role, "created_at": now_iso()})
    return data._campaign(row)


def _score(db, campaign, user, note, day):
    if not data.entries(db, campaign["uuid"]):
        raise StepRefused("还没有申请或推荐的户，先添加再开始评议")
    if not campaign["reviewers"]:
        raise StepRefused("还没有定评议人（村民代表），请先在评选页写上评议人")
    return {"stage": "scoring"}


def _check(db, campaign, user, note, day):
    """考核: every entry's result computed from its reviewers' scores (kept beside any adjustment)."""
    rows = data.entries(db, campaign["uuid"])
    unscored = [e["subject_name"] for e in rows if not data.scores(db, e["uuid"])]
    if unscored:
        raise StepRefused(f"还有 {len(unscored)} 户没有人打分：{'、'.join(unscored[:5])}")
    for e in rows:
        result = data.compute(campaign["rules"], data.scores(db, e["uuid"]))
        db["campaign_entries"].update(e["uuid"], {"computed": json.dumps(result, ensure_ascii=False)})
    return {"stage": "checked"}


def adjust(db, campaign, entry, result, reason, user):
    """The 支部/村委 check changes one result, only with a written reason; the computed one stays beside it."""
    if user.role != "cadre":
        raise StepRefused("考核由村干部办理", 403)
    if campaign["stage"] != "checked":
        raise StepRefused(f"这次评选现在是「{STAGES[campaign['stage']]}」，考核结果不能再改")
    if not (reason or "").strip():
        raise StepRefused("调整结果要写明理由", 422)
    with write(db):
        return records.update(db, "campaign_entries", entry["uuid"],
                              {"adjusted": json.dumps(result, ensure_ascii=False), "adjust_reason": reason.strip()},
                              user.username, action="campaign_adjust", summary=f"考核调整 {entry['subject_name']}：{reason.strip()}")


def _publicize(db, campaign, user, note, day):
    """One 公示 notice on the village's page: who passed and with what; a family that did not consent as 某户."""
    from ..notices.data import create_notice
    rows = [e for e in data.entries(db, campaign["uuid"]) if e["result"] and e["result"]["passed"]]
    if not rows:
        raise StepRefused("没有达到标准的户，不用公示")
    end = day + timedelta(days=int(campaign["rules"]["publicity_days"]))
    notice, _ = create_notice(db, campaign["village_code"], {
        "title": f"{campaign['name']}拟评结果公示", "category": "公示", "publish_date": day.isoformat(),
        "end_date": end.isoformat(), "body": publicity_text(campaign, rows)}, [], user.username)
    return {"stage": "publicity", "notice_uuid": notice["uuid"], "publicity_end": end.isoformat()}


def publicity_text(campaign, rows):
    """The 公示's words: who passed with what, a family that has not consented (or withdrew) as 某户."""
    rules = campaign["rules"]
    lines = [f"{data.shown_name(e)}：{data.title(rules, e['result'])}" for e in rows]
    return ("经申请推荐、村民代表评议、村两委考核，拟评定以下" + ("户" if rules["subject"] == "household" else "人") + "：\n"
            + "\n".join(lines) + f"\n公示期 {rules['publicity_days']} 天，如有异议请点“我有异议”或到村委会反映。")


def _confirm(db, campaign, user, note, day):
    if day.isoformat() <= campaign["publicity_end"]:
        raise StepRefused(f"公示期到 {campaign['publicity_end']} 才结束，结束后才能确认")
    waiting = db.execute("select count(*) from objections where notice_uuid = ? and status = 'open'",
                         [campaign["notice_uuid"]]).fetchone()[0]
    if waiting:
        raise StepRefused(f"公示收到的异议还有 {waiting} 条没有答复，答复后才能确认")
    return {"stage": "confirmed"}


def _report(db, campaign, user, note, day):
    return {"stage": "reported", "returned_reason": None}


def _return(db, campaign, user, note, day):
    if not (note or "").strip():
        raise StepRefused("退回要写明理由", 422)
    return {"stage": "checked", "returned_reason": note.strip()}


def _approve(db, campaign, user, note, day):
    """The town confirms: each passing entry gets its award (title and stars), unless the re-award bar holds it back."""
    rules = campaign["rules"]
    for e in data.entries(db, campaign["uuid"]):
        if not (e["result"] and e["result"]["passed"]) or data.bar(db, e["subject_uuid"], campaign["type_uuid"], day):
            continue
        records.create(db, "awards", {
            "village_code": campaign["village_code"], "campaign_uuid": campaign["uuid"], "type_uuid": campaign["type_uuid"],
            "entry_uuid": e["uuid"], "household_uuid": e["household_uuid"], "subject_uuid": e["subject_uuid"],
            "subject_name": e["subject_name"], "title": data.title(rules, e["result"]),
            "stars": json.dumps(e["result"]["stars"], ensure_ascii=False), "year": campaign["year"],
            "awarded_on": day.isoformat()},
            user.username, summary=f"授予 {e['subject_name']}「{data.title(rules, e['result'])}」")
    return {"stage": "approved"}


def _plaque(db, campaign, user, note, day):
    db.execute("update awards set plaque_on = ? where campaign_uuid = ? and plaque_on is null",
               [day.isoformat(), campaign["uuid"]])
    return {"stage": "plaqued"}


def withdraw(db, award, reason, user, review_uuid=None, on=None):
    """摘星: an award withdrawn with a recorded reason (and the 道德评议 case it follows, if any); the re-award bar of the
    campaign's rules starts that day."""
    if user.role not in ("cadre", "town"):
        raise StepRefused("摘星由村干部或镇里办理", 403)
    if award["withdrawn_on"]:
        raise StepRefused(f"已经在 {award['withdrawn_on']} 摘去了")
    if not (reason or "").strip():
        raise StepRefused("摘星要写明理由", 422)
    if review_uuid:
        case = next(db["review_cases"].rows_where("uuid = ? and village_code = ?", [review_uuid, award["village_code"]]), None)
        if case is None or case["kind"] != "criticism":
            raise StepRefused("关联的道德评议要是本村的批评案件", 422)
    with write(db):
        return records.update(db, "awards", award["uuid"], {
            "withdrawn_on": (on or today()).isoformat(), "withdraw_reason": reason.strip(), "review_uuid": review_uuid},
            user.username, action="campaign_withdraw", summary=f"摘去 {award['subject_name']}「{award['title']}」：{reason.strip()}")


def add_entry(db, campaign, subject, how, came_on, user, nominated_by=None):
    """A household applies (recorded by a cadre, with the date) or is nominated; refused while the re-award bar holds."""
    if user.role != "cadre":
        raise StepRefused("申请和推荐由村干部记录", 403)
    if campaign["stage"] not in ("apply", "scoring"):
        raise StepRefused(f"这次评选现在是「{STAGES[campaign['stage']]}」，不能再添加")
    if how == "nominate" and not (nominated_by or "").strip():
        raise StepRefused("推荐要写推荐人（村干部或村民代表的名字）", 422)
    barred = data.bar(db, subject["uuid"], campaign["type_uuid"])
    if barred:
        raise StepRefused(barred)
    if db.execute("select 1 from campaign_entries where campaign_uuid = ? and subject_uuid = ?",
                  [campaign["uuid"], subject["uuid"]]).fetchone():
        raise StepRefused(f"{subject['name']} 已经在这次评选里了")
    row, _ = records.create(db, "campaign_entries", {
        "village_code": campaign["village_code"], "campaign_uuid": campaign["uuid"], "subject_type": subject["type"],
        "subject_uuid": subject["uuid"], "household_uuid": subject["household_uuid"], "subject_name": subject["name"],
        "how": how, "came_on": came_on, "nominated_by": nominated_by}, user.username,
        summary=f"{HOW_WORDS[how]}：{subject['name']}")
    return row


HOW_WORDS = data.HOW


def consent(db, entry, given, by_name, how, on, user):
    """The family's consent to be named in public (or its withdrawal, which takes the name off at once)."""
    if not (by_name or "").strip():
        raise StepRefused("请写明是谁同意或撤回的", 422)
    with write(db):
        row = records.update(db, "campaign_entries", entry["uuid"], {
            "consent": "given" if given else "withdrawn", "consent_by": by_name.strip(), "consent_how": how,
            "consent_on": on.isoformat()}, user.username, action="campaign_consent",
            summary=f"{entry['subject_name']}{'同意' if given else '撤回'}公开姓名（{how}）")
        campaign = data.campaign(db, entry["village_code"], entry["campaign_uuid"])
        if campaign["stage"] == "publicity" and campaign["notice_uuid"]:  # the 公示 running now says it at once
            rows = [e for e in data.entries(db, campaign["uuid"]) if e["result"] and e["result"]["passed"]]
            records.update(db, "notices", campaign["notice_uuid"], {"body": publicity_text(campaign, rows)}, user.username,
                           summary="公示名单按家里的意愿更新（同意或撤回公开姓名）")
    return row
