"""Reading a village's existing 村规民约 (villageapp/rules/imports.py with import_docx, import_parse, import_text;
issue 15): every shape of text written for these tests (none copied from a real village), .docx files made here with
python-docx, GBK and UTF-8-BOM .txt, and the malformed files a cadre may pick by mistake."""
import io
import zipfile

import docx
import pytest
from docx.oxml import parse_xml
from hypothesis import given, settings
from hypothesis import strategies as st

from villageapp.rules import imports
from villageapp.rules.imports import ImportRefused, parse, read_file, read_paste


def shape(parsed):
    return [(a["chapter"], a["label"], a["title"], a["body"]) for a in parsed["articles"]]


# ---- 第一章 / 第一条 ----------------------------------------------------------------------------------------

CHAPTERED = """柳溪村村规民约

　　为了推进村民自治，建设和睦柳溪，依照有关法律法规，经村民代表会议讨论，制定本村规民约。

第一章　总则

第一条　本村规民约适用于本村村民和在本村居住的人员。
第二条　村民应当遵守法律法规，
维护村里的公共秩序。

　　村民之间有纠纷的，先由调解委员会调解。
第二章 公共事务
第三条 村民应当：
（一）爱护道路、水渠等公共设施；
（二）按时参加村民会议；
（三）遵守防火规定。
第四条 修建房屋应当先向村民委员会申请，不得占用公共道路。
第三章　附　则
第五条 本村规民约由村民委员会负责解释。
本村规民约经2019年3月15日村民代表会议讨论通过，自2019年4月1日起施行。
柳溪村村民委员会
二〇一九年三月十五日
"""


def test_chapters_and_articles_with_several_lines_and_paragraphs():
    parsed = parse(CHAPTERED)
    assert parsed["title"] == "柳溪村村规民约"
    assert parsed["preamble"].startswith("为了推进村民自治") and parsed["preamble"].endswith("制定本村规民约。")
    assert shape(parsed) == [
        ("第一章 总则", "第一条", "", "本村规民约适用于本村村民和在本村居住的人员。"),
        ("第一章 总则", "第二条", "", "村民应当遵守法律法规，\n维护村里的公共秩序。\n村民之间有纠纷的，先由调解委员会调解。"),
        ("第二章 公共事务", "第三条", "",
         "村民应当：\n（一）爱护道路、水渠等公共设施；\n（二）按时参加村民会议；\n（三）遵守防火规定。"),
        ("第二章 公共事务", "第四条", "", "修建房屋应当先向村民委员会申请，不得占用公共道路。"),
        ("第三章 附 则", "第五条", "", "本村规民约由村民委员会负责解释。"),
    ]
    assert parsed["closing"] == ("本村规民约经2019年3月15日村民代表会议讨论通过，自2019年4月1日起施行。\n"
                                 "柳溪村村民委员会\n二〇一九年三月十五日")
    assert (parsed["adopted_on"], parsed["meeting"], parsed["effective_on"]) == ("2019-03-15", "村民代表会议", "2019-04-01")
    assert parsed["warnings"] == []


def test_chinese_numerals_up_to_a_hundred_and_more_and_arabic_article_numbers():
    assert [imports.cn_value(n) for n in ("一", "十", "十二", "二十", "九十九", "一百", "一百零五", "一百一十", "两百", "10", "１０")] == [
        1, 10, 12, 20, 99, 100, 105, 110, 200, 10, 10]
    assert [imports.cn_number(n) for n in (1, 10, 12, 20, 99, 100, 105, 110, 121)] == [
        "一", "十", "十二", "二十", "九十九", "一百", "一百零五", "一百一十", "一百二十一"]
    long_text = "\n".join(f"第{imports.cn_number(n)}条 第{n}件事情要办好。" for n in range(1, 106))
    parsed = parse("青石村村规民约\n" + long_text)
    assert [a["number"] for a in parsed["articles"]] == list(range(1, 106))
    assert parsed["articles"][104]["label"] == "第一百零五条" and parsed["warnings"] == []
    parsed = parse("第1条 一件事。\n第2条 两件事。\n第10条 十件事。")
    assert [a["label"] for a in parsed["articles"]] == ["第1条", "第2条", "第10条"]
    assert "第2条之后是第10条，缺少第3条到第9条，请核对" in parsed["warnings"]


# ---- bare headings with 一、 or 1. articles ----------------------------------------------------------------

def test_bare_headings_then_chinese_numbered_articles():
    parsed = parse("""山前村村民公约
总则
一、本公约适用于全体村民。
二、村民要爱国守法，
团结邻里。

社会治安
三、不赌博
四、不吸毒

林地管理
五、禁止乱砍滥伐。
六、进山不得带火种。
附则
七、本公约经村民会议通过，自2020年5月1日起施行。
山前村村委会
2020.4.20
""")
    assert parsed["title"] == "山前村村民公约"
    assert shape(parsed) == [
        ("总则", "一、", "", "本公约适用于全体村民。"),
        ("总则", "二、", "", "村民要爱国守法，\n团结邻里。"),
        ("社会治安", "三、", "", "不赌博"),
        ("社会治安", "四、", "", "不吸毒"),
        ("林地管理", "五、", "", "禁止乱砍滥伐。"),
        ("林地管理", "六、", "", "进山不得带火种。"),
        ("附则", "七、", "", "本公约经村民会议通过，自2020年5月1日起施行。"),
    ]
    assert parsed["closing"] == "山前村村委会\n2020.4.20"
    # the date under the signature is the adoption date; the meeting and the start are read from 附则's article
    assert (parsed["adopted_on"], parsed["meeting"], parsed["effective_on"]) == ("2020-04-20", "村民会议", "2020-05-01")
    assert parsed["warnings"] == []


def test_bare_headings_then_arabic_numbered_articles_halfwidth_fullwidth_and_comma():
    parsed = parse("桃园村村规民约\n环境卫生\n1. 垃圾入桶。\n２．门前三包。\n3、不在河里洗农药桶。\n"
                   "婚姻家庭\n4.男女平等，婚姻自由。\n5. 赡养老人是子女的义务。")
    assert shape(parsed) == [
        ("环境卫生", "1.", "", "垃圾入桶。"), ("环境卫生", "２．", "", "门前三包。"),
        ("环境卫生", "3、", "", "不在河里洗农药桶。"), ("婚姻家庭", "4.", "", "男女平等，婚姻自由。"),
        ("婚姻家庭", "5.", "", "赡养老人是子女的义务。")]
    assert parsed["warnings"] == []


def test_chinese_numbered_chapters_over_arabic_numbered_articles():
    parsed = parse("""红岭村村规民约
一、总则
1. 宗旨：为了维护本村秩序，制定本约。
2. 适用范围：本村全体村民。
二、环境卫生
1. 门前三包：各户负责门前卫生。
3. 垃圾分类：垃圾分类投放。
三、附则
1. 解释：本约由村民委员会负责解释。
1. 施行：本约自公布之日起施行。
""")
    assert shape(parsed) == [
        ("一、总则", "1.", "宗旨", "为了维护本村秩序，制定本约。"),
        ("一、总则", "2.", "适用范围", "本村全体村民。"),
        ("二、环境卫生", "1.", "门前三包", "各户负责门前卫生。"),
        ("二、环境卫生", "3.", "垃圾分类", "垃圾分类投放。"),
        ("三、附则", "1.", "解释", "本约由村民委员会负责解释。"),
        ("三、附则", "1.", "施行", "本约自公布之日起施行。"),
    ]
    # numbering starts again in each chapter: only the real gaps and repeats are named, with their chapter
    assert parsed["warnings"] == ["「二、环境卫生」里：“1.”之后是“3.”，缺少“2.”，请核对", "「三、附则」里：“1.”出现了两次，请核对"]
    assert parsed["effective_on"] is None


def test_chapters_may_start_again_at_one_or_count_on():
    parsed = parse("一、总则\n1. 全体村民适用。\n2. 外来人员参照。\n二、治安\n3. 不准赌博。\n4. 不准吸毒。\n三、附则\n"
                   "1. 村委会负责解释。\n3. 公布之日起施行。")
    assert [a["label"] for a in parsed["articles"]] == ["1.", "2.", "3.", "4.", "1.", "3."]
    assert parsed["warnings"][1:] == ["「三、附则」里：“1.”之后是“3.”，缺少“2.”，请核对"]


def test_chinese_numbered_articles_with_arabic_items_inside():
    parsed = parse("一、村民应当：\n1. 遵守法律；\n2. 爱护公物。\n二、村民不得：\n1. 赌博；\n2. 吸毒。")
    assert shape(parsed) == [("", "一、", "", "村民应当：\n1. 遵守法律；\n2. 爱护公物。"),
                             ("", "二、", "", "村民不得：\n1. 赌博；\n2. 吸毒。")]
    assert parsed["warnings"] == ["没有找到标题（如“××村村规民约”），请在下面填写"]


def test_chinese_numbered_chapters_over_parenthesised_articles():
    parsed = parse("枫林村村规民约\n一、社会治安\n（一）不准赌博。\n（二）不准吸毒。\n二、森林防火\n(一) 进山不带火种。\n"
                   "(二) 清明祭扫不烧纸。\n第三章这个词后面是一句话，不是章。")
    assert shape(parsed) == [("一、社会治安", "（一）", "", "不准赌博。"), ("一、社会治安", "（二）", "", "不准吸毒。"),
                             ("二、森林防火", "(一)", "", "进山不带火种。"),
                             ("二、森林防火", "(二)", "", "清明祭扫不烧纸。\n第三章这个词后面是一句话，不是章。")]
    assert parsed["warnings"] == []


# ---- flat lists, items, untidy whitespace -------------------------------------------------------------

def test_flat_list_with_items_blank_lines_indentation_and_crlf():
    text = ("\ufeff　　东坡村居民公约\r\n\r\n\r\n"
            "\t第一条\t【宗旨】为了邻里和睦，\u200b制定本公约。\r\n"
            "　　第二条　【义务】居民应当做到：(一)爱护绿地；(二)文明养犬；(三)按时缴纳卫生费。\r\n"
            "第三条 【禁止】不得有下列行为：\r\n1) 高空抛物；\r\n2）占用消防通道。\r\n"
            "第四条【奖惩】\r\n①表现好的，年终表扬；\r\n②屡教不改的，在公示栏通报。\r\n")
    parsed = parse(read_paste(text))
    assert parsed["title"] == "东坡村居民公约" and parsed["preamble"] == ""
    assert shape(parsed) == [
        ("", "第一条", "宗旨", "为了邻里和睦，制定本公约。"),
        ("", "第二条", "义务", "居民应当做到：\n(一)爱护绿地；\n(二)文明养犬；\n(三)按时缴纳卫生费。"),
        ("", "第三条", "禁止", "不得有下列行为：\n1) 高空抛物；\n2）占用消防通道。"),
        ("", "第四条", "奖惩", "①表现好的，年终表扬；\n②屡教不改的，在公示栏通报。"),
    ]
    assert parsed["warnings"] == []


def test_article_title_after_the_label_and_a_colon_only_where_the_text_writes_them_so():
    parsed = parse("第一条 宗旨：为了维护秩序。\n第二条 适用范围：全体村民。\n第三条 村民应当：遵守法律。")
    assert [(a["title"], a["body"]) for a in parsed["articles"]] == [
        ("宗旨", "为了维护秩序。"), ("适用范围", "全体村民。"), ("", "村民应当：遵守法律。")]
    parsed = parse("第一条 村民应当：\n（一）遵守法律；\n（二）爱护公物。\n第二条 备注：以上各条都要遵守。")
    assert [a["title"] for a in parsed["articles"]] == ["", ""]  # one "X：" among many is not a titling style


def test_numbering_that_skips_repeats_or_goes_back_is_named_and_kept_in_the_texts_order():
    parsed = parse("石桥村村规民约\n第一条 甲。\n第二条 乙。\n第三条 丙。\n第四条 丁。\n第五条 戊。\n"
                   "第七条 己。\n第八条 庚。\n第八条 辛。\n第九条 壬。\n第四条 癸。")
    assert [a["label"] for a in parsed["articles"]] == [
        "第一条", "第二条", "第三条", "第四条", "第五条", "第七条", "第八条", "第八条", "第九条", "第四条"]
    assert parsed["warnings"] == ["第五条之后是第七条，缺少第六条，请核对", "第九条之后是第四条，编号顺序不对，请核对",
                                  "第八条出现了两次，请核对", "第四条出现了两次，请核对"]
    parsed = parse("第三条 从这里开始。\n第四条 接着。")
    assert parsed["warnings"][-1] == "条文从第三条开始，缺少第一条到第二条，请核对"
    parsed = parse("第一章 总则\n第一条 甲。\n第三章 附则\n第二条 乙。")
    assert "第一章之后是第三章，缺少第二章，请核对" in parsed["warnings"]


def test_a_text_full_of_numbering_problems_gets_a_short_list_of_warnings():
    parsed = parse("\n".join(f"第{imports.cn_number(n)}条 甲。" for n in range(1, 200, 2)))
    assert len(parsed["warnings"]) == imports.MAX_WARNINGS + 1  # no title, 19 of the 99 gaps, and how many more
    assert parsed["warnings"][-1] == "另外还有 80 处问题，请逐条核对编号"


def test_auto_numbering_lost_in_a_paste_is_said_not_guessed():
    parsed = parse("白沙村村规民约\n为了维护秩序，制定本村规民约。\n村民应当遵守法律法规。\n不得赌博。\n"
                   "不得乱倒垃圾。\n本村规民约自公布之日起施行。")
    assert parsed["title"] == "白沙村村规民约" and parsed["preamble"] == "为了维护秩序，制定本村规民约。"
    assert shape(parsed) == [("", "", "", "村民应当遵守法律法规。"), ("", "", "", "不得赌博。"), ("", "", "", "不得乱倒垃圾。")]
    assert parsed["closing"] == "本村规民约自公布之日起施行。"
    assert any("自动编号" in w and "没有找到" in w for w in parsed["warnings"])


def test_unnumbered_lines_under_a_chapter_are_kept_and_named():
    parsed = parse("第一章 总则\n第一条 甲。\n第二章 附则\n本村规民约由村民委员会负责解释。\n本村规民约自公布之日起施行。\n"
                   "金山村村民委员会\n2021年1月8日")
    assert shape(parsed)[1:] == [("第二章 附则", "", "", "本村规民约由村民委员会负责解释。"),
                                 ("第二章 附则", "", "", "本村规民约自公布之日起施行。")]
    assert parsed["closing"] == "金山村村民委员会\n2021年1月8日" and parsed["adopted_on"] == "2021-01-08"
    assert "「第二章 附则」下面有 2 段文字没有条文编号（可能是自动编号丢了），先各放成一条，请核对" in parsed["warnings"]


def test_nothing_recognisable_says_so():
    parsed = parse("今天天气很好")
    assert parsed["title"] == "" and any("没有找到标题" in w for w in parsed["warnings"])
    assert parse("")["articles"] == [] and any("没有找到任何条文" in w for w in parse("")["warnings"])


# ---- the closing lines' facts --------------------------------------------------------------------------

@pytest.mark.parametrize(("closing", "adopted", "meeting", "effective"), [
    ("本村规民约于2019.3.15经村民会议表决通过，自公布之日起施行。", "2019-03-15", "村民会议", None),
    ("本约经二〇一八年十二月二十日村民代表大会讨论通过，自二〇一九年一月一日起实施。", "2018-12-20", "村民代表大会", "2019-01-01"),
    ("本公约自2022/7/1起执行。\n河湾社区居民委员会\n2022年6月18日", "2022-06-18", None, "2022-07-01"),
    ("本村规民约经户代表会议通过，报镇人民政府备案，备案号：河镇备〔2020〕3号。\n（2020年2月30日）", None, "户代表会议", None),
])
def test_closing_facts(closing, adopted, meeting, effective):
    parsed = parse("第一条 甲。\n第二条 乙。\n" + closing)
    assert parsed["closing"] == closing
    assert (parsed["adopted_on"], parsed["meeting"], parsed["effective_on"]) == (adopted, meeting, effective)


def test_dates_in_ordinary_articles_are_not_taken_for_the_adoption():
    parsed = parse("第一条 2015年6月1日以前经村民会议讨论通过的宅基地，按原规定办理。\n第二条 本约自公布之日起施行。")
    assert (parsed["adopted_on"], parsed["effective_on"]) == (None, None)
    parsed = parse("第一条 甲。\n第二条 本约经2016年5月4日村民会议讨论通过，自公布之日起施行。")
    assert (parsed["adopted_on"], parsed["meeting"]) == ("2016-05-04", "村民会议")


def test_filing_number_and_adoption_under_the_title():
    parsed = parse("松林村村规民约\n（2017年9月2日村民代表会议通过）\n第一条 甲。\n本村规民约于2017年9月20日报镇政府备案，"
                   "备案编号：松备2017-05。")
    assert parsed["preamble"] == "（2017年9月2日村民代表会议通过）"
    assert (parsed["adopted_on"], parsed["meeting"]) == ("2017-09-02", "村民代表会议")
    assert (parsed["filing_no"], parsed["filed_on"]) == ("松备2017-05", "2017-09-20")


def test_article_lines_reads_back_the_same():
    parsed = parse(CHAPTERED)
    again = parse(imports.article_lines(parsed["articles"]))
    assert shape(again) == shape(parsed)
    assert parse(CHAPTERED) == parsed  # deterministic


# ---- files ------------------------------------------------------------------------------------------------

def test_txt_in_gbk_gb18030_utf8_with_or_without_bom_and_utf16():
    text = "槐树村村规民约\r\n第一条　爱护槐树。\r\n第二条　不得在树下堆放柴草。\r\n"
    for data in (text.encode("gbk"), text.encode("gb18030"), text.encode("utf-8"), text.encode("utf-8-sig"),
                 text.encode("utf-16")):
        got = read_file("槐树村.TXT", data)
        assert got == "槐树村村规民约\n第一条 爱护槐树。\n第二条 不得在树下堆放柴草。"
        assert parse(got)["title"] == "槐树村村规民约"


def _docx_bytes(document):
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_with_headings_numbered_paragraphs_and_a_table():
    document = docx.Document()
    document.add_heading("竹园村村规民约", level=0)
    document.add_paragraph("为了建设美丽竹园，制定本村规民约。")
    document.add_heading("第一章 总则", level=1)
    document.add_paragraph("第一条 本村规民约适用于全体村民。")
    document.add_heading("第二章 环境卫生", level=1)
    document.add_paragraph("第二条 乱倒垃圾的，按下表处理：")
    table = document.add_table(rows=2, cols=2)
    for row, (act, what) in zip(table.rows, [("第一次", "批评教育"), ("第二次", "在公示栏通报")]):
        row.cells[0].text, row.cells[1].text = act, what
    document.add_paragraph("第三条 各户门前三包。")
    document.add_paragraph("本村规民约经2023年2月1日村民会议通过。")
    text = read_file("竹园村村规民约.docx", _docx_bytes(document))
    parsed = parse(text)
    assert parsed["title"] == "竹园村村规民约" and parsed["preamble"] == "为了建设美丽竹园，制定本村规民约。"
    assert shape(parsed) == [("第一章 总则", "第一条", "", "本村规民约适用于全体村民。"),
                             ("第二章 环境卫生", "第二条", "", "乱倒垃圾的，按下表处理：\n第一次 批评教育\n第二次 在公示栏通报"),
                             ("第二章 环境卫生", "第三条", "", "各户门前三包。")]
    assert (parsed["adopted_on"], parsed["meeting"]) == ("2023-02-01", "村民会议")


def test_docx_tracked_changes_read_as_accepted():
    document = docx.Document()
    paragraph = document.add_paragraph("第一条 村民")
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    paragraph._p.append(parse_xml(f'<w:ins {ns} w:id="1" w:author="a"><w:r><w:t>应当</w:t></w:r></w:ins>'))
    paragraph._p.append(parse_xml(f'<w:del {ns} w:id="2" w:author="a"><w:r><w:delText>可以</w:delText></w:r></w:del>'))
    paragraph.add_run("爱护公物。")
    assert read_file("a.docx", _docx_bytes(document)) == "第一条 村民应当爱护公物。"


NUMBERING = ('<w:abstractNum xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:abstractNumId="90">'
             '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="第%1条"/></w:lvl>'
             '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
             '</w:abstractNum>')


def test_docx_word_auto_numbering_is_read_back():
    """WPS and Word often number 第一条… automatically: the number is not in the paragraph's text, the file has it."""
    document = docx.Document()
    document.add_paragraph("梨花村村规民约")
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(NUMBERING))
    numbering.append(parse_xml('<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                               'w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    # a second list on the same definition counts on (Word's 继续编号), a third one starts again (重新开始编号)
    numbering.append(parse_xml('<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                               'w:numId="91"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.append(parse_xml('<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                               'w:numId="92"><w:abstractNumId w:val="90"/>'
                               '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'))
    paragraphs = [("村民应当遵守法律。", 0, 90), ("村民不得：", 0, 90), ("赌博；", 1, 90), ("吸毒。", 1, 90),
                  ("本约自公布之日起施行。", 0, 91), ("另一份的第一条。", 0, 92)]
    for text, level, num in paragraphs:
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            '<w:numPr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f'<w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr>'))
    document.add_paragraph("自动编号", style="List Number")
    text = read_file("梨花村.docx", _docx_bytes(document))
    assert text.splitlines()[1:] == ["第一条 村民应当遵守法律。", "第二条 村民不得：", "（一）赌博；", "（二）吸毒。",
                                     "第三条 本约自公布之日起施行。", "第一条 另一份的第一条。", "1.自动编号"]
    assert [a["label"] for a in parse(text)["articles"]] == ["第一条", "第二条", "第三条", "第一条"]


# ---- refused: a clear Chinese reason, never a crash -----------------------------------------------------

def refused(filename, data):
    with pytest.raises(ImportRefused) as info:
        read_file(filename, data)
    return str(info.value)


def test_empty_or_blank_file_is_refused():
    assert "空" in refused("村规民约.txt", b"")
    assert "空" in refused("村规民约.docx", b"")
    assert "没有文字" in refused("村规民约.txt", "\u3000\u3000 \r\n\t".encode())
    with pytest.raises(ImportRefused, match="没有内容"):
        read_paste("　\n\n ")


def test_old_word_doc_is_refused_with_how_to_save_it_as_docx():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    for name in ("村规民约.doc", "村规民约.docx", "村规民约"):
        message = refused(name, ole)
        assert ".doc" in message and "另存为" in message and ".docx" in message and "WPS" in message
    assert "另存为" in refused("村规民约.DOC", "第一条 甲。".encode())  # any .doc name
    assert ".wps" in refused("村规民约.wps", ole)


def test_picture_renamed_docx_pdf_and_other_kinds_are_refused():
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    assert "图片" in refused("村规民约.docx", png)
    assert "图片" in refused("村规民约.jpg", b"\xff\xd8\xff\xe0" + bytes(100))
    assert "PDF" in refused("村规民约.pdf", b"%PDF-1.7\n")
    message = refused("村规民约.xlsx", b"PK\x03\x04")
    assert ".docx" in message and ".txt" in message and "粘贴" in message
    assert "不是有效的 Word 文件" in refused("村规民约.docx", "第一条 甲。".encode())


def test_zip_that_is_not_a_docx_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("照片/1.txt", "不是 Word")
    assert "压缩包" in refused("村规民约.docx", out.getvalue())
    # an .xlsx renamed .docx: a real Office zip, but no word/document.xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert "不是 Word" in refused("村规民约.docx", out.getvalue())
    # damaged: the right names, broken XML
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<<<")
    assert "不是有效的 Word 文件" in refused("村规民约.docx", out.getvalue())


def test_docx_zip_bomb_is_refused_by_its_declared_sizes_before_decompressing():
    good = _docx_bytes(docx.Document())
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.writestr("word/media/huge.bin", bytes(60 * 1024 * 1024))  # 60 MB of zeros, about 60 KB packed
    data = out.getvalue()
    assert len(data) < imports.MAX_FILE_BYTES
    assert "解开后太大" in refused("村规民约.docx", data)


def test_docx_with_an_entity_bomb_is_not_expanded():
    good = _docx_bytes(docx.Document())
    entities = '<!DOCTYPE w:document [<!ENTITY a "哈哈哈哈哈哈哈哈哈哈">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9)) + "]>"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data.decode().replace("?>", "?>" + entities, 1).replace("<w:body>", "<w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p>")
            archive.writestr(info.filename, data)
    try:
        text = read_file("村规民约.docx", out.getvalue())
    except ImportRefused as refusal:
        assert "不是有效的 Word 文件" in str(refusal)
    else:
        assert len(text) < 1000


def test_twenty_megabytes_of_text_is_refused():
    big = "第一条 甲。\n" * (20 * 1024 * 1024 // 16)
    assert "太大" in refused("村规民约.txt", big.encode())
    with pytest.raises(ImportRefused, match="文字太长"):
        read_paste(big)
    assert len(read_paste("第一条 甲。" * 1000)) == 6000


def test_binary_junk_named_txt_is_refused():
    assert "不是文字文件" in refused("村规民约.txt", bytes(range(256)) * 4)
    assert "编码认不出来" in refused("村规民约.txt", bytes(range(1, 32)) * 40)


SENTENCES = ["村民应当爱护公共设施。", "不得在河道里倒垃圾；", "违反的，由村民委员会批评教育。", "各户门前实行三包，门前要干净。",
             "（一）按时缴纳卫生费；", "1) 不准赌博；", "①年终评比；", "第三方的意见也要听取。", "2019年3月15日以后新建的房屋。"]
HEADINGS = ["总则", "社会治安", "林地管理", "婚姻家庭", "环境卫生", "附则"]
STYLES = ["第章第条", "标题一、", "一、1."]


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(STYLES),
       st.lists(st.tuples(st.sampled_from(HEADINGS), st.lists(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3),
                                                              min_size=1, max_size=4)), min_size=1, max_size=5))
def test_generated_rulebooks_in_each_shape_are_read_back_exactly(style, chapters):
    """Well-formed texts of each shape, built from pieces: the exact chapters, labels and bodies, and no warnings."""
    lines, expected, n = ["试验村村规民约", "为了试验，制定本村规民约。"], [], 0
    for c, (heading, articles) in enumerate(chapters, 1):
        chapter = {"第章第条": f"第{imports.cn_number(c)}章 {heading}", "标题一、": heading,
                   "一、1.": f"{imports.cn_number(c)}、{heading}"}[style]
        lines.append(chapter)
        for a, sentences in enumerate(articles, 1):
            n += 1
            label = {"第章第条": f"第{imports.cn_number(n)}条", "标题一、": f"{imports.cn_number(n)}、", "一、1.": f"{a}."}[style]
            lines.append(label + ("" if style == "标题一、" else " ") + sentences[0])
            lines.extend(sentences[1:])
            expected.append((chapter, label, "", "\n".join(sentences)))
    lines += ["试验村村民委员会", "2024年5月6日"]
    parsed = parse("\n".join(lines))
    assert (parsed["title"], parsed["preamble"]) == ("试验村村规民约", "为了试验，制定本村规民约。")
    assert shape(parsed) == expected
    assert parsed["closing"] == "试验村村民委员会\n2024年5月6日" and parsed["adopted_on"] == "2024-05-06"
    assert parsed["warnings"] == []


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("第一二十百条章、.．1234567890（）()①：:【】。\n\r\t\u3000 村规民约总则附则通过年月日起施行") + ["〇"]),
               max_size=300))
def test_parse_never_fails_on_any_text(text):
    parsed = parse(text)
    assert set(parsed) >= {"title", "preamble", "articles", "closing", "adopted_on", "meeting", "effective_on", "warnings"}
    assert all(set(a) >= {"chapter", "label", "title", "body"} for a in parsed["articles"])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["a.txt", "a.docx", "a", "a.doc"]))
def test_read_file_refuses_or_reads_any_bytes(data, name):
    try:
        assert isinstance(read_file(name, data), str)
    except ImportRefused as refusal:
        assert str(refusal)


@pytest.mark.parametrize("line, number", [
    ("本村规民约经2020年4月18日村民代表会议讨论通过，报镇人民政府备案（备案号：城规备〔2020〕12号），自公布之日起施行。", "城规备〔2020〕12号"),
    ("本约经村民会议通过，备案号：石民备(2021)3号。", "石民备(2021)3号"),
    ("本约经村民会议通过（备案编号 2019-07）。", "2019-07"),
])
def test_a_filing_number_in_brackets_keeps_its_own_brackets_only(line, number):
    text = "某村村规民约\n第一条 村民应遵守法律。\n第二条 邻里和睦。\n" + line
    assert imports.parse(text)["filing_no"] == number
