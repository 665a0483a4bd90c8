"""The arithmetic of a meeting, as pure functions: who counts as eligible, the quorum of 村民会议 and 村民代表会议
(村民委员会组织法 arts. 22 and 26, DOMAIN.md) and whether a vote passes. No database, no Flask: unit-tested alone."""
from math import ceil

# what the 应到 number counts; which bases each body may use (others count their own roster)
BASES = {
    "adults": "18 周岁以上村民",
    "households": "户代表",
    "representatives": "村民代表",
    "members": "本会成员",
}
BODY_BASES = {"村民会议": ["adults", "households"], "村民代表会议": ["representatives"]}


def bases_for(council_name):
    return BODY_BASES.get(council_name, ["members"])


def has_quorum_rule(council_name):
    return council_name in BODY_BASES


def quorum_needed(basis, eligible):
    """The fewest present for the meeting to be valid. Adults: more than half (过半数).
    Households' representatives and 村民代表: two thirds or more (三分之二以上, which includes two thirds)."""
    if not eligible:
        return None
    if basis == "adults":
        return eligible // 2 + 1
    if basis in ("households", "representatives"):
        return ceil(2 * eligible / 3)
    return None


def quorum(council_name, basis, eligible, present):
    """None where the body has no quorum rule; else {needed, met, text} for the minutes and the print view."""
    if not has_quorum_rule(council_name):
        return None
    needed = quorum_needed(basis, eligible)
    if needed is None:
        return {"needed": None, "met": None, "text": "没有填应到人数，无法判断是否达到法定人数"}
    present = present or 0
    rule = "过半数" if basis == "adults" else "三分之二以上"
    if present >= needed:
        text = f"应到{BASES[basis]} {eligible}，实到 {present}，达到{rule}（至少 {needed}），会议有效"
    else:
        text = f"应到{BASES[basis]} {eligible}，实到 {present}，不足{rule}（至少 {needed}），所作决定无效"
    return {"needed": needed, "met": present >= needed, "text": text}


def vote_error(votes_for, against, abstain, present):
    """A Chinese message when the three counts cannot be right, else None."""
    votes = [v or 0 for v in (votes_for, against, abstain)]
    if any(v < 0 for v in votes):
        return "票数不能是负数"
    total = sum(votes)
    if total > (present or 0):
        return f"同意、反对、弃权一共 {total} 票，比到会的 {present or 0} 人还多，请核对"
    return None


def passes(votes_for, present):
    """A decision passes with more than half of those present (到会人员的过半数), not of those who voted."""
    return (votes_for or 0) * 2 > (present or 0) if present else False


def voted(item):
    return any(item.get(k) is not None for k in ("votes_for", "votes_against", "votes_abstain"))
