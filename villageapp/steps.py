"""What every procedure of steps shares (村规民约, 道德评议, 创评活动): a step refused with its reason in Chinese and an HTTP
status, the check of role and order that 道德评议 and 创评 make the same way, the steps a person may take now (for the
buttons), and who takes a step when it is not a signed-in person (the demo, a kind's example)."""
from dataclasses import dataclass


class StepRefused(Exception):
    """A step that may not be taken now (wrong order, wrong role, a missing fact). str() is for people."""

    def __init__(self, message, status=409):
        super().__init__(message)
        self.status = status


@dataclass
class Actor:
    """Who takes a step: what the procedures and sync.apply_edit read of a signed-in user."""
    username: str
    role: str


def check_role_and_stage(steps, stages, row, step, role, noun):
    """steps: {step: (words, roles, stages it may be taken in)}; stages: {stage: words}. Raise StepRefused (404 no such
    step, 403 not this role's, 409 not now) unless `role` may take `step` on `row` (a thing whose stage is row["stage"])."""
    if step not in steps:
        raise StepRefused("没有这一步", 404)
    words, roles, allowed = steps[step]
    if role not in roles:
        raise StepRefused(f"「{words}」由{'镇里' if roles == ('town',) else '村干部'}办理", 403)
    if row["stage"] not in allowed:
        raise StepRefused(f"{noun}现在是「{stages[row['stage']]}」，不能办「{words}」")


def allowed(check, steps, row, role):
    """The steps `role` may take on `row` now: those `check(row, step, role)` does not refuse."""
    out = []
    for step in steps:
        try:
            check(row, step, role)
        except StepRefused:
            continue
        out.append(step)
    return out
