"""Issue 15 in Debian's Chromium on a 360×640 phone: a cadre pastes the village's existing 村规民约, in which one number
is repeated (三、 twice) so the reading makes one article too many; she merges it back with 「和上一条合并」 and
confirms; the town clerk opens the task from the town desk and confirms; the public page shows the text numbered
第一条…第四条. The import, check and confirmation screens pass the machine checks of every screen (axe, width, tap
targets, no English), the check screen also in 大字模式."""
import re

import pytest
from conftest import CHIHE, CHIHE_TOWN, PASSWORD, add_village_with_cadre
from playwright.sync_api import expect

from . import screens
from .test_public import login

pytestmark = pytest.mark.browser

CODE = "610922104209"
V = f"/v/{CODE}"
PHONE = screens.phone(640)
TEXT = """新河村村规民约

一、村民应当遵守国家法律法规，维护村里的安定团结。
二、红白事从简办理，婚事宴席不超过十五桌。
三、以上标准由红白理事会监督执行。
三、提倡婚事新办，反对高价彩礼。
四、本村规民约由村民委员会负责解释。

本村规民约经2020年6月8日村民会议讨论通过，自公布之日起施行。
新河村村民委员会
2020年6月8日
"""


no_problems = screens.no_problems


@pytest.fixture
def village(app):
    """新河村, added to 池河镇 with a cadre of its own and no rulebook yet."""
    return add_village_with_cadre(app, CODE, "新河村", "xinhe", "新河村书记")


def test_cadre_imports_fixes_a_wrong_split_town_confirms_public_shows_it(browser, live_server, village):
    page = screens.signed_in(browser, live_server.url, "xinhe", height=640)
    page.goto(f"{live_server.url}{V}/rules/manage")
    page.get_by_role("link", name="导入现有的村规民约").click()
    expect(page.locator("h1")).to_have_text("导入现有的村规民约")
    no_problems(page)
    page.get_by_label("把村规民约全文复制粘贴到这里").fill(TEXT)
    page.get_by_role("button", name="下一步：核对条文").click()

    expect(page.locator("h1")).to_have_text("核对条文")
    expect(page.locator(".card.current")).to_contain_text("还没有保存")
    expect(page.locator(".warnings")).to_contain_text("出现了两次")
    expect(page.locator(".article")).to_have_count(5)
    no_problems(page)
    page.click("header [data-textsize]")  # 大字模式: still fits, still big enough to tap
    assert not screens.width_problems(page) and not screens.tap_problems(page)
    page.click("header [data-textsize]")

    # the first 三、 goes on from 二、: merged back into it
    page.locator("#article-2").get_by_role("button", name="和上一条合并").click()
    expect(page.locator(".article")).to_have_count(4)
    expect(page.locator("#article-1 .flash")).to_have_text("已经和上一条合成一条")
    expect(page.locator("#articles-1-body")).to_have_value(
        "红白事从简办理，婚事宴席不超过十五桌。\n三、以上标准由红白理事会监督执行。")
    expect(page.locator("#adopted_on")).to_have_value("2020-06-08")
    expect(page.locator("#adopted_meeting")).to_have_value("2020年6月8日村民会议")
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".flash")).to_contain_text("已经导入，等镇里确认")
    expect(page.locator(".stage")).to_have_text("已有版本，待镇确认")
    page.context.close()

    town = browser.new_context(**PHONE)
    page = town.new_page()
    login(page, live_server.url, CHIHE, PASSWORD)
    page.goto(f"{live_server.url}/t/{CHIHE_TOWN}/")
    page.get_by_role("link", name=re.compile("新河村 · 村规民约第 1 版：已有版本，待镇确认")).click()
    expect(page.locator("body")).to_contain_text("导入的原有版本（2020年6月8日村民会议 通过，2020年6月8日）")
    no_problems(page)
    page.get_by_role("button", name="确认", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已确认")
    expect(page.locator(".stage")).to_have_text("已公布")
    town.close()

    public = browser.new_context(**PHONE)
    page = public.new_page()
    page.goto(f"{live_server.url}{V}/rules")
    numbers = page.locator("#rule-text .article strong").all_inner_texts()
    assert numbers == ["第一条", "第二条", "第三条", "第四条"]
    expect(page.locator("#rule-text .article").nth(1)).to_contain_text("三、以上标准由红白理事会监督执行。")
    expect(page.locator("#rule-text .article").nth(2)).to_contain_text("提倡婚事新办")
    expect(page.locator("body")).to_contain_text("导入的原有版本（2020年6月8日村民会议 通过")
    public.close()
