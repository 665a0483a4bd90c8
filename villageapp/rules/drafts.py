"""Drafting articles offline: the "rule_article" record type of the sync engine (the phone keeps the new-article page,
queues what a cadre types with no signal and sends it later), its form on name/value pairs and its table columns."""
import json

from flask import url_for
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField

from .. import kinds
from ..forms import choices
from .forms import CHAPTERS, ArticleForm

EDITABLE = ("consultation", "draft")


class DraftForm(ArticleForm):
    version = HiddenField()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        row = self.version_row
        if row is None:
            self.version.errors = ["找不到这一版村规民约，请从村规民约页面重新打开"]
            return False
        if row["stage"] not in EDITABLE:
            from .procedure import LABELS
            self.version.errors = [(f"第 {row['number']} 版已经到了「{LABELS[row['stage']]}」，条文不能再改；"
                                    "您写的内容还在，请抄下来交给村干部")]
            return False
        if self.record is not None and self.record["version_uuid"] != row["uuid"]:
            self.version.errors = ["这一条不属于这一版"]
            return False
        return ok


def article_payload(row):
    limits = json.loads(row["limits"] or "{}")
    return [["version", row["version_uuid"]], ["chapter", row["chapter"] or ""], ["title", row["title"] or ""],
            ["body", row["body"]], ["banquet_tables", str(limits.get("banquet_tables", ""))],
            ["gift_amount", str(limits.get("gift_amount", ""))]]


def make_article_form(db, village_code, formdata, record=None, csrf=False):
    """The article form on request.form or a phone's pairs; None means "as stored" (the conflict view)."""
    if formdata is None:
        formdata = MultiDict([tuple(p) for p in article_payload(record)]) if record else MultiDict()
    form = DraftForm(formdata=formdata, meta={"csrf": csrf})
    own = [r[0] for r in db.execute("select chapter from rule_articles where version_uuid = ? group by chapter "
                                    "order by min(sort)", [form.version.data or ""]) if r[0]]
    form.chapter.choices = [*choices([(c, c) for c in own if c not in CHAPTERS]), *form.chapter.choices]  # an imported text's own chapters
    form.record = record
    form.version_row = next(db["rule_versions"].rows_where("uuid = ? and village_code = ?",
                                                           [form.version.data or "", village_code]), None)
    if record is not None:
        form.sort_value = record["sort"]
    else:
        last = db.execute("select max(sort) from rule_articles where version_uuid = ?", [form.version.data or ""]).fetchone()
        form.sort_value = (last[0] or 0) + 10
    return form


def article_columns(form):
    limits = {k: getattr(form, k).data for k in ("banquet_tables", "gift_amount") if getattr(form, k).data is not None}
    return {"version_uuid": form.version_row["uuid"], "chapter": form.chapter.data,
            "title": (form.title.data or "").strip() or None, "body": form.body.data.strip(),
            "limits": json.dumps(limits) if limits else None, "sort": form.sort_value}


def _new_article_pages(db, village_code):
    """The new-article page of the version being drafted, kept on the cadre's phone for use with no signal."""
    row = next(db["rule_versions"].rows_where("village_code = ? and stage in ('consultation', 'draft')", [village_code]),
               None)
    return [url_for("rules.new_article", village=village_code, uuid=row["uuid"])] if row else []


def _example(db, village_code):
    """An article of the version being drafted (a new cycle is started for the example when there is none)."""
    from . import data
    row = next(db["rule_versions"].rows_where("village_code = ? and stage in ('consultation', 'draft')", [village_code]),
               None)
    if row is None:
        row, _message = data.start_cycle(db, db["villages"].get(village_code), "system", reason="示例")
    return [["version", row["uuid"]], ["chapter", "村风民俗"], ["title", "红白喜事"], ["body", "红白喜事从简办理。"],
            ["banquet_tables", "15"], ["gift_amount", ""]]


ARTICLE = kinds.Kind(
    name="rule_article", table="rule_articles", label="村规民约条文", form=make_article_form, to_record=article_columns,
    to_payload=article_payload, example=_example, offline_pages=_new_article_pages,
    url=lambda row: url_for("rules.version", village=row["village_code"], uuid=row["version_uuid"]),
    export=(("章", "chapter"), ("顺序", "sort"), ("标题", "title"), ("条文", "body")),
    tables={"rule_articles": "村规民约条文"},
    fields={"chapter": "章", "limits": "限额", "origin_uuid": "原条文", "banquet_tables": "宴席桌数",
            "gift_amount": "礼金（元）"})
