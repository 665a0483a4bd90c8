"""The 道德评议 procedure as data and one function. A case is drafted (offline, through sync), then: 评议 (the council's
vote at a session, whose minutes say who was present) → 告知 (the subject is told, with date and way) → the subject's
reply → 复评 (an appeal within the town's window, decided by the council) → 回访 (follow-up visits) → 结案. take_step
refuses a step out of order or by the wrong role with a Chinese reason, and writes the step and an audit entry with the
change, under the write lock (two cadres taking one step at once take it once)."""
import json
from datetime import date

from .. import audit, records
from ..clock import now_iso, today
from ..steps import StepRefused, check_role_and_stage
from ..store import write
from . import data

# step: (words, roles that take it, stages it may be taken in)
STEPS = {
    "vote": ("评议表决", ("cadre",), ("new",)),
    "tell": ("告知本人", ("cadre",), ("reviewed",)),
    "reply": ("本人意见", ("cadre",), ("told", "appealed")),
    "appeal": ("申请复评", ("cadre",), ("told",)),
    "decide_appeal": ("复评结果", ("cadre",), ("appealed",)),
    "visit": ("回访", ("cadre",), ("told",)),
    "close": ("结案", ("cadre",), ("told",)),
    "consent": ("公开同意", ("cadre",), ("reviewed", "told", "closed")),
    "public": ("红榜公开方式", ("cadre",), ("reviewed", "told", "closed")),
    "grant": ("法律顾问查看", ("town",), ("new", "reviewed", "told", "appealed", "closed")),
}
STAGES = {"new": "新记的，待评议", "reviewed": "已评议，待告知", "told": "已告知", "appealed": "复评中", "closed": "已结案"}
OUTCOMES = {"upheld": "维持原结论", "changed": "改变结论", "revoked": "撤销"}


def check(case, step, role):
    """Raise StepRefused (in Chinese) unless this role may take this step now."""
    check_role_and_stage(STEPS, STAGES, case, step, role, "这件事")
    if step in ("appeal", "decide_appeal") and case["kind"] != "criticism":
        raise StepRefused("表扬不需要复评")
    if step in ("consent", "public") and (case["kind"] != "praise" or case["conclusion"] != "praise"):
        raise StepRefused("只有评议通过的表扬才能上红榜")
    if step == "visit" and case["conclusion"] not in ("education", "help"):
        raise StepRefused("回访用于批评教育和帮教")


def _day(value, label):
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise StepRefused(f"请填写{label}（如 2026-05-01）", 422) from None


def take_step(db, case, step, user, **fields):
    """Take one step on a case as `user`. Returns the case as it is after. Every step is audited with its words."""
    with write(db):
        case = db["review_cases"].get(case["uuid"])  # read again under the lock
        check(case, step, user.role)
        changes, done_on, note, extra = _apply(db, case, step, {**fields, "actor": user.username})
        if changes:
            case = records.update(db, "review_cases", case["uuid"], changes, user.username, action=f"review_{step}",
                                  summary=f"道德评议·{STEPS[step][0]}" + (f"：{note}" if note else ""))
        else:
            audit.record(db, user.username, f"review_{step}", "review_cases", case["uuid"], case["village_code"],
                         summary=f"道德评议·{STEPS[step][0]}" + (f"：{note}" if note else ""))
        db["review_steps"].insert({"case_uuid": case["uuid"], "village_code": case["village_code"], "step": step,
                                   "done_on": done_on.isoformat(), "note": note or None,
                                   "data": json.dumps(extra, ensure_ascii=False) if extra else None,
                                   "actor": user.username, "role": user.role, "created_at": now_iso()})
    return case


def _apply(db, case, step, f):
    """(column changes, the day of the step, its note, other data kept with the step) — or StepRefused."""
    note = (f.get("note") or "").strip() or None
    if step == "vote":
        return _vote(db, case, f, note)
    if step == "tell":
        told = _day(f.get("done_on"), "告知日期")
        if case["reviewed_on"] and told.isoformat() < case["reviewed_on"]:
            raise StepRefused("告知日期不能早于评议日期", 422)
        if f.get("how") not in data.TOLD_HOW:
            raise StepRefused("请选择告知的方式", 422)
        return {"stage": "told", "told_on": told.isoformat(), "told_how": f["how"]}, told, note, {"how": f["how"]}
    if step == "reply":
        day = _day(f.get("done_on"), "日期")
        if not note:
            raise StepRefused("请写下本人的意见", 422)
        return {"reply": note, "replied_on": day.isoformat()}, day, note, None
    if step == "appeal":
        day = _day(f.get("done_on"), "申请日期")
        deadline = data.appeal_deadline(db, case)
        if day.isoformat() < case["told_on"]:
            raise StepRefused("申请日期不能早于告知日期", 422)
        if day > deadline:
            days = data.setting(db, "review_appeal_days")
            raise StepRefused(f"已过复评期限：告知后 {days} 天内可申请，截止 {deadline.isoformat()}，"
                              f"{day.isoformat()} 申请不能受理。可以向镇里反映。", 409)
        if not note:
            raise StepRefused("请写明申请复评的理由", 422)
        return {"stage": "appealed", "appeal_on": day.isoformat(), "appeal_reason": note}, day, note, None
    if step == "decide_appeal":
        day = _day(f.get("done_on"), "复评日期")
        outcome = f.get("outcome")
        if outcome not in OUTCOMES:
            raise StepRefused("请选择复评结果", 422)
        if not note:
            raise StepRefused("请写明复评的理由", 422)
        changes = {"appeal_outcome": outcome, "appeal_note": note, "appeal_decided_on": day.isoformat(), "stage": "told"}
        if outcome == "revoked":
            changes.update(stage="closed", conclusion="revoked", closed_on=day.isoformat(), close_note="复评撤销")
        elif outcome == "changed":
            conclusion = f.get("conclusion")
            if conclusion not in ("education", "help"):
                raise StepRefused("改变结论时请选择新的结论", 422)
            changes.update(_help(conclusion, f))
        return changes, day, note, {"outcome": outcome}
    if step == "visit":
        day = _day(f.get("done_on"), "回访日期")
        if not note:
            raise StepRefused("请写下回访的情况", 422)
        return {}, day, note, None
    if step == "close":
        day = _day(f.get("done_on"), "结案日期")
        if case["conclusion"] == "help" and not data.last_visit(db, case["uuid"]):
            raise StepRefused("帮教的事要至少回访一次才能结案", 409)
        return {"stage": "closed", "closed_on": day.isoformat(), "close_note": note}, day, note, None
    if step == "consent":
        return _consent(db, case, f, note)
    if step == "public":
        shown = bool(f.get("anonymous"))
        return {"public_anonymous": int(shown)}, today(), note, {"anonymous": shown}
    if step == "grant":
        granted = bool(f.get("granted"))
        return {"adviser_granted": int(granted)}, today(), note, {"granted": granted}
    raise StepRefused("没有这一步", 404)


def _vote(db, case, f, note):
    session = data.session(db, case["village_code"], f.get("session") or "")
    if session is None:
        raise StepRefused("请选择是哪一次评议会", 422)
    present = session["present"]
    if not present:
        raise StepRefused("这次评议会的会议记录里还没有实到人数，请先在会议记录里填好到会的人", 422)
    try:
        votes = [int(f.get(k) or 0) for k in ("votes_for", "votes_against", "votes_abstain")]
    except (TypeError, ValueError):
        raise StepRefused("票数请填数字", 422) from None
    if any(v < 0 for v in votes) or sum(votes) > present:
        raise StepRefused(f"同意、反对、弃权加起来不能超过实到的 {present} 人", 422)
    passed = votes[0] * 2 > present
    conclusion = f.get("conclusion")
    allowed = ("praise",) if case["kind"] == "praise" else ("education", "help")
    if passed and conclusion not in allowed:
        raise StepRefused("请选择评议结论", 422)
    changes = {"session_uuid": session["uuid"], "present": present, "votes_for": votes[0], "votes_against": votes[1],
               "votes_abstain": votes[2], "reviewed_on": session["held_on"]}
    if passed:
        changes.update(stage="reviewed", **_help(conclusion, f))
    else:
        changes.update(stage="closed", conclusion="dismissed", closed_on=session["held_on"], close_note="表决未过半数")
    return changes, date.fromisoformat(session["held_on"]), note, {"passed": passed}


def _help(conclusion, f):
    if conclusion != "help":
        return {"conclusion": conclusion, "help_plan": None, "helper": None}
    plan, helper = (f.get("help_plan") or "").strip(), (f.get("helper") or "").strip()
    if not plan or not helper:
        raise StepRefused("帮教要写明帮教计划和帮教人", 422)
    return {"conclusion": "help", "help_plan": plan[:1000], "helper": helper[:40]}


def _consent(db, case, f, note):
    action = f.get("action")
    if action not in ("given", "withdrawn"):
        raise StepRefused("请选择同意还是撤回", 422)
    by_name, how = (f.get("by_name") or "").strip()[:40], f.get("how")
    if not by_name:
        raise StepRefused("请写明是谁同意或撤回的", 422)
    if how not in data.CONSENT_HOW and action == "given":
        raise StepRefused("请选择同意的方式", 422)
    day = _day(f.get("done_on"), "日期")
    db["review_consents"].insert({"case_uuid": case["uuid"], "village_code": case["village_code"], "action": action,
                                  "by_name": by_name, "how": how or "本人撤回", "on_date": day.isoformat(),
                                  "recorded_by": f.get("actor"), "created_at": now_iso()})
    return {"consent": action}, day, note, {"action": action, "by_name": by_name, "how": how}
