"""The 村规民约 procedure as data and one function: which step comes after which, who owns it, and take_step,
which refuses a step out of order or by the wrong role with a Chinese reason, and records (and audits) a step taken."""
import json

from .. import attachments, audit
from ..clock import now_iso, today
from ..steps import StepRefused  # noqa: F401  (raised here, caught as procedure.StepRefused)
from ..store import write
from ..meetings import data as meetings
from ..meetings import quorum

# stage of a version = the step it waits for; (key, label, roles that own it)
STEPS = [
    ("consultation", "征集意见", ("cadre",)),
    ("draft", "草案", ("cadre",)),
    ("review", "法律顾问审查", ("adviser",)),
    ("approval", "镇审核", ("town",)),
    ("vote", "表决", ("cadre",)),
    ("filing", "备案", ("town",)),
    ("publish", "公布", ("cadre", "town")),
]
LABELS = {key: label for key, label, _roles in STEPS}
LABELS["published"] = "已公布"
OWNERS = {key: roles for key, _label, roles in STEPS}
ROLE_WORDS = {"cadre": "村干部", "adviser": "法律顾问", "town": "镇干部"}
ORDER = [key for key, _l, _r in STEPS]
# a rulebook the village adopted before the app, brought in from its text (import_views.py): it does not go through
# the steps above; the town confirms it (→ published) or returns it with a reason (the cadre fixes it or imports again)
IMPORT_STAGES = {"imported": ("已有版本，待镇确认", ("town",)), "returned": ("镇里退回，待村里改正后重新提交", ("cadre",))}
LABELS.update({key: label for key, (label, _roles) in IMPORT_STAGES.items()})
OWNERS.update({key: roles for key, (_label, roles) in IMPORT_STAGES.items()})
VOTING_BODIES = ("村民会议", "村民代表会议")
OUTCOMES = {"done": "完成", "passed": "审查通过", "commented": "提出修改意见", "approved": "审核同意",
            "returned": "退回修改", "voted": "表决通过", "filed": "已备案", "published": "已公布",
            "confirmed": "确认无误，公布施行"}


def next_step(stage):
    i = ORDER.index(stage)
    return ORDER[i + 1] if i + 1 < len(ORDER) else "published"


def check(version, step, role):
    """Raise StepRefused unless `role` may take `step` on this version now."""
    if step not in ORDER:
        raise StepRefused("没有这一步", 404)
    if version["stage"] in IMPORT_STAGES:
        raise StepRefused("这是导入的本村原有村规民约，不再走一遍制定程序：由镇里确认或退回。"
                          "确认公布后要修改，请在村规民约页面点“发起修订”", 409)
    if version["stage"] == "published":
        raise StepRefused("这一版已经公布了。要修改，请在村规民约页面点“发起修订”开始新的一轮", 409)
    if version["stage"] != step:
        i, j = ORDER.index(step), ORDER.index(version["stage"])
        why = "还没到这一步" if i > j else "这一步已经做过了"
        raise StepRefused(f"{why}：现在该做的是「{LABELS[version['stage']]}」，"
                          f"按顺序办完才能「{LABELS[step]}」", 409)
    if role not in OWNERS[step]:
        owners = "或".join(ROLE_WORDS[r] for r in OWNERS[step])
        raise StepRefused(f"「{LABELS[step]}」这一步由{owners}办理，您的账号不能做", 403)


def vote_problem(db, village_code, meeting_uuid, item_index, approved_on=None):
    """Why a meeting cannot count as the vote on the rules, or None. Uses the meetings feature's quorum arithmetic.
    approved_on: the town's approval; a meeting held before it voted on a text the town had not yet seen."""
    row = meetings.meeting(db, village_code, meeting_uuid) if meeting_uuid else None
    if row is None:
        return "请选择一次本村的村民会议或村民代表会议"
    if approved_on and row["starts_at"][:10] < approved_on:
        return f"这次会议（{row['starts_at'][:10]}）开在镇审核同意（{approved_on}）之前，表决要在审核同意之后进行"
    council = db["councils"].get(row["council_uuid"])
    if council["name"] not in VOTING_BODIES:
        return f"「{council['name']}」不能表决村规民约，要由村民会议或村民代表会议表决"
    if row["state"] == "draft":
        return "这次会议的记录还没确认，确认后才能作为表决依据"
    m = meetings.view(row, council["name"])
    q = m["quorum"]
    if not q or not q["met"]:
        return "到会人数不够：" + (q["text"] if q else "没有应到人数")
    if item_index is None or not 0 <= item_index < len(m["agenda"]):
        return "请选择会上表决村规民约的那个议题"
    item = m["agenda"][item_index]
    if not item["voted"]:
        return f"议题「{item['title']}」没有记表决票数"
    if not quorum.passes(item["votes_for"], m["present"]):
        return (f"议题「{item['title']}」同意 {item['votes_for'] or 0} 票，没有超过到会 {m['present']} 人的半数，"
                "表决没有通过")
    return None


def take_step(db, version, step, user, outcome="done", done_on=None, note=None, documents=None, comments=None,
              meeting_uuid=None, agenda_item=None, filing_no=None, files=()):
    """Take one step of the procedure on a version. Raises StepRefused; returns the updated version row.
    files: [(filename, content_type, bytes)] already checked by attachments.prepare, kept with the version."""
    check(version, step, user.role)
    comments = {k: v.strip() for k, v in (comments or {}).items() if v and v.strip()}
    done_on = done_on or today().isoformat()
    last = db.execute("select max(done_on) from rule_steps where version_uuid = ?", [version["uuid"]]).fetchone()[0]
    if done_on > today().isoformat():
        raise StepRefused("日期不能晚于今天", 422)
    if last and done_on < last:
        raise StepRefused(f"日期不能早于上一步的日期（{last}），每一步按先后办理", 422)
    changes = {}
    has_text = db.execute("select 1 from rule_articles where version_uuid = ?", [version["uuid"]]).fetchone()
    if step == "draft" and not has_text:
        raise StepRefused("草案还没有任何条文，请先添加条文再提交审查")
    if step == "review":
        if outcome not in ("passed", "commented"):
            raise StepRefused("请选择审查结论：通过，或提出修改意见")
        if outcome == "commented" and not comments and not note:
            raise StepRefused("提出修改意见时，请至少对一条条文写明意见")
    if step == "approval":
        if outcome not in ("approved", "returned"):
            raise StepRefused("请选择：审核同意，或退回修改")
        if outcome == "returned" and not comments and not note:
            raise StepRefused("退回修改时，请写明理由（可以逐条写）")
    if step == "vote":
        approved_on = db.execute("select max(done_on) from rule_steps where version_uuid = ? and step = 'approval' "
                                 "and outcome = 'approved'", [version["uuid"]]).fetchone()[0]
        problem = vote_problem(db, version["village_code"], meeting_uuid, agenda_item, approved_on)
        if problem:
            raise StepRefused(problem, 422)
        changes.update(meeting_uuid=meeting_uuid, agenda_item=agenda_item)
        outcome = "voted"
    if step == "filing":
        if not (filing_no or "").strip():
            raise StepRefused("请填写备案编号", 422)
        changes.update(filing_no=filing_no.strip(), filed_on=done_on)
        outcome = "filed"
    if step == "publish":
        changes.update(published_on=done_on)
        outcome = "published"
    back = outcome in ("commented", "returned")
    stage = "draft" if back else next_step(step)
    changes["stage"] = stage
    if files:
        names = "、".join(name for name, _type, _data in files)
        documents = f"{documents.strip()}；附件：{names}" if (documents or "").strip() else f"附件：{names}"
    with write(db):
        before = db["rule_versions"].get(version["uuid"])
        if before["stage"] != version["stage"]:  # taken by someone else while this request checked it
            check(before, step, user.role)
        for name, kind, blob in files:
            attachments.add(db, version["uuid"], name, kind, blob, user.username)
        db["rule_steps"].insert({"version_uuid": version["uuid"], "village_code": version["village_code"], "step": step,
                                 "outcome": outcome, "done_on": done_on, "note": (note or "").strip() or None,
                                 "documents": (documents or "").strip() or None,
                                 "comments": json.dumps(comments, ensure_ascii=False) if comments else None,
                                 "actor": user.username, "role": user.role, "created_at": now_iso()})
        db["rule_versions"].update(version["uuid"], {**changes, "updated_at": now_iso(),
                                                     "version": (before["version"] or 0) + 1})
        after = db["rule_versions"].get(version["uuid"])
        if stage == "published":
            book = db["rulebooks"].get(version["rulebook_uuid"])
            db["rulebooks"].update(book["uuid"], {"current_version": version["number"], "updated_at": now_iso()})
            _announce(db, book, after, user)
        audit.record(db, user.username, "rule_" + step, "rule_versions", version["uuid"], version["village_code"],
                     before, after, f"村规民约第 {version['number']} 版：{LABELS[step]} · {OUTCOMES.get(outcome, outcome)}")
    return after


def _announce(db, book, version, user):
    """Publishing also puts a line on the 村务公开 board (村务), pointing to the full text on the public page."""
    from ..notices import data as notices
    body = (f"{book['title']}第 {version['number']} 版经村民会议（村民代表会议）表决通过，"
            f"已于 {version['filed_on']} 报镇备案（{version['filing_no']}），现予公布。"
            "全文请点村务公开页上的“村规民约全文”，也张贴在村委会公开栏。")
    notices.create_notice(db, version["village_code"], {
        "title": f"关于公布{book['title']}（第 {version['number']} 版）的公告", "category": "村务", "body": body,
        "publish_date": version["published_on"], "end_date": None}, [], user.username)


def steps(db, version_uuid):
    out = []
    for row in db["rule_steps"].rows_where("version_uuid = ?", [version_uuid], order_by="id"):
        row["comments"] = json.loads(row["comments"] or "{}")
        row["label"] = "镇里确认导入的原有版本" if row["step"] == "imported" else LABELS[row["step"]]
        row["outcome_label"] = OUTCOMES.get(row["outcome"], row["outcome"])
        out.append(row)
    return out
