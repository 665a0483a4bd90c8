"""The machine checks of one screen, run in the page itself: axe-core, width, tap targets, table headers, English words.
Each returns a list of problems (empty = passes), in words a person can act on."""
import re

from axe_playwright_python.sync_playwright import Axe

AXE = Axe()
# rules that judge the page's content as a person reads it: only critical and serious count (issue 9)
BAD_IMPACTS = ("critical", "serious")


def axe_problems(page):
    results = AXE.run(page, options={"resultTypes": ["violations"]}).response
    out = []
    for v in results["violations"]:
        if v["impact"] in BAD_IMPACTS:
            nodes = "; ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                              for n in v["nodes"][:4])
            out.append(f"axe {v['id']} ({v['impact']}, {len(v['nodes'])}×): {nodes}")
    return out


WIDTH_JS = """() => {
  const out = [], w = window.innerWidth;
  if (document.documentElement.scrollWidth > w) out.push("page is " + document.documentElement.scrollWidth + " px wide on a " + w + " px screen");
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > w + 1 && !el.closest(".scroll, .columns") && getComputedStyle(el).position !== "fixed") {
      out.push((el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "")) +
               " reaches " + Math.round(r.right) + " px");
      if (out.length > 6) break;
    }
  }
  return out;
}"""

# Tap targets: every visible a, button, input, select, summary and the label of a checkbox or radio is at least 44×44 CSS px.
# One exemption, WCAG 2.5.8's "inline" one: a link that is part of a sentence (display: inline, with other words in the
# same paragraph). A checkbox or radio inside a label is judged by its label.
TAP_JS = """() => {
  const out = [], w = window.innerWidth;
  const visible = (el) => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && r.right > 0 && r.left < w; };
  const inSentence = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    const block = el.parentElement.closest("p, li, dd, td, div");
    if (!block) return false;
    // the words around it, not counting other links: a row of links separated by "·" is not a sentence
    let own = block.textContent;
    for (const link of block.querySelectorAll("a")) own = own.replace(link.textContent, "");
    own = own.replace(/[\\s·|（）()，。、：:→←]/g, "");
    return own.length >= 2;
  };
  const targets = document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, label");
  for (const el of targets) {
    if (!visible(el)) continue;
    let box = el;
    if (el.tagName === "LABEL") { if (!el.querySelector("input[type=checkbox], input[type=radio]")) continue; }
    else if (el.matches("input[type=checkbox], input[type=radio]")) {
      const label = el.closest("label") || (el.id && document.querySelector('label[for="' + el.id + '"]'));
      if (label) continue;  // judged by its label
    }
    if (inSentence(el)) continue;
    const r = box.getBoundingClientRect();
    if (r.width < 43.5 || r.height < 43.5) {
      const name = (el.textContent || el.value || el.name || el.type || "").trim().replace(/\\s+/g, " ").slice(0, 20);
      out.push(el.tagName.toLowerCase() + " “" + name + "” is " + Math.round(r.width) + "×" + Math.round(r.height));
    }
  }
  return out;
}"""

# A table header wrapped one character per line (公/开) cannot be read: every header cell is at least two characters wide.
HEADERS_JS = """() => {
  const out = [];
  for (const th of document.querySelectorAll("th")) {
    const r = th.getBoundingClientRect(), s = getComputedStyle(th);
    if (!r.width || s.visibility === "hidden") continue;
    const text = th.textContent.trim();
    if (text.length < 2) continue;
    const range = document.createRange(); range.selectNodeContents(th);
    const lines = new Set(Array.from(range.getClientRects()).map((x) => Math.round(x.top))).size;
    const fs = parseFloat(s.fontSize);
    if (lines > 1 && r.width < 2.6 * fs + parseFloat(s.paddingLeft) + parseFloat(s.paddingRight)) out.push("header “" + text + "” wraps in a " + Math.round(r.width) + " px column");
  }
  return out;
}"""

# Visible words in Latin letters. Code values are fine: ids, numbers, file names, addresses, and a few words a villager
# reads as Chinese (PDF, CSV, Excel, QR, A4…).
TEXT_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = (el) => { for (let e = el; e; e = e.parentElement) {
    const s = getComputedStyle(e); if (s.display === "none" || s.visibility === "hidden") return false;
    if (e.matches("code, kbd, samp, script, style, noscript, .code, [translate=no]")) return false; } return true; };
  while (walker.nextNode()) { const t = walker.currentNode.nodeValue; if (/[A-Za-z]{2}/.test(t) && seen(walker.currentNode.parentElement)) out.push(t.trim()); }
  for (const el of document.querySelectorAll("input[placeholder], textarea[placeholder], input[type=submit][value], img[alt], [aria-label], [title]")) {
    for (const a of ["placeholder", "alt", "aria-label", "title"]) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    if (el.matches("input[type=submit]")) out.push(el.value);
  }
  return out;
}"""
ALLOWED_WORDS = {"PDF", "CSV", "Excel", "QR", "A4", "KB", "MB", "GB", "JPG", "JPEG", "PNG", "Word", "WPS", "ID", "App",
                 "Android", "iPhone", "Chrome", "WeChat", "WiFi", "Wi", "Fi", "OK", "https", "http", "xlsx", "xls", "csv", "pdf"}
CODE_VALUE = re.compile(r"^(?:\w*_\w*|[\w.-]+\.[A-Za-z0-9]{2,5}|[\w.+-]+@[\w.-]+|https?://\S+|/\S*|[0-9a-fA-F-]{8,}|[\w-]*\d[\w-]*)$")


def english_problems(page):
    out = []
    for text in page.evaluate(TEXT_JS):
        for token in re.split(r"[\s，。、：:；;（）()“”\"'《》·|,]+", text):
            if not re.search(r"[A-Za-z]{2}", token) or CODE_VALUE.match(token):
                continue
            for word in re.findall(r"[A-Za-z]+", token):
                if len(word) >= 2 and word not in ALLOWED_WORDS:
                    out.append(f"English “{word}” in “{text[:60]}”")
                    break
    return sorted(set(out))[:8]


def width_problems(page):
    return page.evaluate(WIDTH_JS)


def tap_problems(page):
    return sorted(set(page.evaluate(TAP_JS)))[:10]


def header_problems(page):
    return page.evaluate(HEADERS_JS)


def phone(height=740):
    """Browser context settings of a 360 px phone (new_context(**screens.phone()))."""
    return {"viewport": {"width": 360, "height": height}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True,
            "locale": "zh-CN"}


def signed_in(browser, base, username, height=740, **context):
    """A page on a new 360 px phone context (close it with page.context.close()), signed in as `username` (a cadre:
    it lands on its village home)."""
    from conftest import PASSWORD

    from .test_public import login
    page = browser.new_context(**phone(height), **context).new_page()
    login(page, base, username, PASSWORD)
    page.wait_for_url(re.compile(r"/home$"))
    return page


def problems(page):
    """The four checks every screen must pass, by name: {"axe": [...], "width": [...], "tap": [...], "english": [...]}."""
    return {name: run(page) for name, run in (("axe", axe_problems), ("width", width_problems), ("tap", tap_problems),
                                              ("english", english_problems))}


def no_problems(page):
    found = problems(page)
    assert not any(found.values()), found

