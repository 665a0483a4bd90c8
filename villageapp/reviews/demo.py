"""Demo 道德评议: one session of the village's 道德评议会, linked to the minutes the meetings' demo wrote, and six cases
about the village's own demo residents, each at another point of the procedure: praise named on the 红榜 (with
consent), praise shown as 某户, praise not (yet) public, a 批评教育 told and answered, a 帮教 appealed, upheld and
visited, and one still waiting for the vote. Every case is stored as its form stores it (records.create, audited),
every step taken through procedure.take_step (audited), by the village's demo accounts. Its random stream is seeded
by the village's code."""
import random
from datetime import timedelta

from .. import records, sync
from ..clock import today
from ..councils import data as councils
from ..meetings.forms import meeting_payload
from ..steps import Actor
from . import data
from .forms import _subject
from .procedure import take_step


def build(db, village, ctx):
    code = village["code"]
    rnd = random.Random(code)
    cadre, town = Actor(ctx.account("cadre", code), "cadre"), Actor(ctx.account("town", code), "town")
    minutes = _minutes_with_present(db, code, cadre)
    if minutes is None:  # a village without the meetings' demo: nothing to link a session to
        return
    held = minutes["starts_at"][:10]
    day = today()
    session = data.add_session(db, code, {
        "title": f"{held[:4]}年{'上' if held[5:7] <= '06' else '下'}半年道德评议会", "kind": "half_year", "held_on": held,
        "meeting_uuid": minutes["uuid"], "note": "各组推荐的典型和群众反映的问题，逐件评议"}, cadre.username)
    present = data.session(db, code, session["uuid"])["present"]
    board = councils.council_by_name(db, code, "道德评议会")
    judges = councils.members(db, board["uuid"], current_only=True) if board else []
    chair = judges[0]["name"] if judges else "评议会会长"
    picks = _subjects(db, code, rnd, {m["resident_uuid"] for m in judges})
    if picks is None:  # fewer than six adults besides the council
        return
    (carer, _h1), (_r2, donor), (peacemaker, _h3), (_r4, dumper), (gambler, _h5), (groom, _h6) = picks
    majority = present // 2 + 1

    def case(subject, kind, category, facts, source="member", source_name=chair):
        """A case as the form stores it (case_columns), for a subject of the register."""
        who = _subject(db, code, subject)
        if who is None or category not in data.categories(db, kind):
            raise ValueError(f"demo case: {subject} {category}")
        return records.create(db, "review_cases", {
            "village_code": code, "subject_type": who["type"], "subject_uuid": who["uuid"],
            "household_uuid": who["household_uuid"], "subject_name": who["name"], "kind": kind, "category": category,
            "facts": facts, "source": source, "source_name": source_name or None, "photos": "[]"}, cadre.username)[0]

    def vote(row, conclusion, **fields):
        return take_step(db, row, "vote", cadre, session=session["uuid"], votes_for=present, votes_against=0,
                         votes_abstain=0, conclusion=conclusion, **fields)

    past = {n: (day - timedelta(days=n)).isoformat() for n in (0, 1)}
    told_on = max(held, past[1])

    # 1. praise, told, the subject agreed in writing to be named on the 红榜; closed
    name = carer["name"]
    row = case(f"r:{carer['uuid']}", "praise", "孝老爱亲",
               f"{name}的{'老伴' if carer['birth_year'] < 1965 else '父亲'}中风后瘫痪在床五年多，"
               f"{name}每天端水喂饭、擦身翻身，夜里起来好几回，从没让老人长过褥疮。组里群众都说是孝顺的好榜样。")
    row = vote(row, "praise", note=f"一致同意表扬{name}")
    row = take_step(db, row, "tell", cadre, done_on=told_on, how="当面告知")
    row = take_step(db, row, "consent", cadre, action="given", by_name=name, how="书面签字", done_on=told_on,
                    note="本人同意在红榜上写名字")
    take_step(db, row, "close", cadre, done_on=past[0], note="已上红榜")

    # 2. praise, told; the household would rather not be named, the council wants it public: 某户 on the 红榜
    row = case(f"h:{donor['uuid']}", "praise", "热心公益",
               f"{donor['head_name']}户主动让出自家承包地边上约两分地，给{donor['group'] or '组里'}的村道拓宽用，"
               "不要补偿，还出工帮着平整路基。")
    row = vote(row, "praise")
    row = take_step(db, row, "tell", cadre, done_on=told_on, how="上门告知")
    take_step(db, row, "public", cadre, anonymous=True, note="本户不愿具名，评议会同意以“某户”上红榜")

    # 3. praise voted, not told yet: not on the 红榜 (neither consent nor 某户)
    name = peacemaker["name"]
    row = case(f"r:{peacemaker['uuid']}", "praise", "邻里和睦",
               f"两家邻居因为宅基地滴水闹了两年矛盾，{name}前后上门劝了五六回，又自己出钱买水泥把排水沟修好，"
               "两家现在见面有说有笑。")
    vote(row, "praise")

    # 4. criticism, 批评教育: told at home, the household answered
    row = case(f"h:{dumper['uuid']}", "criticism", "乱倒垃圾",
               f"{dumper['head_name']}户翻修房子，三次把建筑垃圾倒在河道边，组长上门劝了两回仍没有清理，"
               "下雨时堵了排水。", source="report", source_name="")
    row = take_step(db, row, "vote", cadre, session=session["uuid"], votes_for=majority, votes_against=0,
                    votes_abstain=present - majority, conclusion="education")
    row = take_step(db, row, "tell", cadre, done_on=told_on, how="上门告知", note="村干部和评议会会长一起上门")
    take_step(db, row, "reply", cadre, done_on=past[0],
              note="承认做得不对，已经雇车把河道边的垃圾清走，保证以后拉到指定的消纳点。")

    # 5. criticism, 帮教: told, appealed within the window, upheld, visited once; the town opened it to the adviser
    name = gambler["name"]
    helper = judges[1]["name"] if len(judges) > 1 else chair
    row = case(f"r:{gambler['uuid']}", "criticism", "赌博",
               f"{name}今年以来多次在组里一户人家的后屋打牌赌钱，把外出务工挣的两万多元输掉了大半，"
               "家里人多次向村里反映。", source="report", source_name="")
    row = vote(row, "help", help_plan="评议会成员结对帮教：每月上门谈心一次，帮助联系镇上的务工岗位，请家人一起监督。",
               helper=helper)
    row = take_step(db, row, "tell", cadre, done_on=held, how="当面告知")
    row = take_step(db, row, "appeal", cadre, done_on=told_on,
                    note="本人说只是过年过节和亲戚打打牌，输赢没有那么大，申请复评。")
    take_step(db, row, "grant", town, granted=True, note="有复评，请法律顾问看一下")
    row = take_step(db, row, "decide_appeal", cadre, done_on=past[0], outcome="upheld",
                    note="向邻居和家里人核实，多次赌博属实，维持帮教的结论。")
    take_step(db, row, "visit", cadre, done_on=past[0],
              note=f"{helper}上门谈心，本人表示已经不去打牌了，想在镇上的工地找活干。")

    # 6. just written down at a member's suggestion: waits for the council's vote
    name = groom["name"]
    case(f"r:{groom['uuid']}", "praise", "移风易俗",
         f"{name}{'家给儿子' if groom['birth_year'] < 1985 else ''}办婚事，只摆了八桌，没要高价彩礼，"
         "还把省下的钱拿出来给组里装了两盏路灯。")


def _minutes_with_present(db, code, cadre):
    """The newest minutes of the village's 道德评议会, with a present count: minutes without one (nobody ticked) get
    the council's seats as counted present, saved the way a cadre's edit of the draft is (sync.apply_edit)."""
    minutes = next(iter(data.review_meetings(db, code)), None)
    if minutes is None or minutes["present"]:
        return minutes
    row = db["meetings"].get(minutes["uuid"])
    board = councils.council_by_name(db, code, "道德评议会")
    seats = len(councils.members(db, board["uuid"], current_only=True)) if board else 0
    present = str(row["eligible"] or seats or 3)
    payload = [p for p in meeting_payload(row) if p[0] != "present"] + [["present", present]]
    edit = {"edit_id": records.new_uuid(), "uuid": row["uuid"], "type": "meeting", "base_version": row["version"],
            "payload": payload}
    answer = sync.apply_edit(db, cadre, code, edit)
    if answer["status"] != "accepted":
        raise ValueError(answer)
    return next(m for m in data.review_meetings(db, code) if m["uuid"] == row["uuid"])


def _subjects(db, code, rnd, judges):
    """Six (adult resident, their household) pairs, none of them on the 道德评议会, from as many households as there are
    (taken in turn from households in a random order)."""
    adult = today().year - 18
    houses = list(db.query("""select h.uuid, h.head_name, g.name as [group] from households h
        left join groups g on g.uuid = h.group_uuid where h.village_code = ? order by h.rowid""", [code]))
    people = {}
    for r in db["residents"].rows_where("village_code = ? and birth_year <= ?", [code, adult], order_by="rowid"):
        if r["uuid"] not in judges:
            people.setdefault(r["household_uuid"], []).append(r)
    houses = [h for h in houses if people.get(h["uuid"])]
    rnd.shuffle(houses)
    for h in houses:
        rnd.shuffle(people[h["uuid"]])
    picks = [(people[h["uuid"]][turn], h) for turn in range(max((len(p) for p in people.values()), default=0))
             for h in houses if turn < len(people[h["uuid"]])]
    return picks[:6] if len(picks) >= 6 else None
