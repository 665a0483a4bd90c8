"""Small bar charts drawn on the server as SVG markup: no script, no library, no style attribute (a strict CSP), dark
bars with the number written beside each bar (readable printed in black and white), role="img" with a <title>, and a
viewBox that scales to any width (width 100%: it fits a 360 px phone). The page shows the same numbers in a table."""
from itertools import count

from markupsafe import Markup, escape

WIDTH = 360
INK, FAINT = "#1a1a1a", "#767676"
_ids = count(1)


def _text(x, y, words, anchor="start", size=12, cls=None, fill=INK, weight=None):
    extra = (f' class="{cls}"' if cls else "") + (f' font-weight="{weight}"' if weight else "")
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f'{escape(words)}</text>')


def _svg(title, height, parts):
    ident = f"chart-{next(_ids)}"
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{ident}"'
                  f' xmlns="http://www.w3.org/2000/svg"><title id="{ident}">{escape(title)}</title>' + "".join(parts)
                  + "</svg>")


def _label(words, limit=6):
    words = str(words)
    return words if len(words) <= limit else words[:limit - 1] + "…"


def bars(title, items):
    """One horizontal bar per (label, number): the label on the left, the bar, the number at its end."""
    items = list(items)
    top = max([n for _label_, n in items] + [1])
    row, left, right = 26, 104, 30
    span = WIDTH - left - right
    parts = []
    for i, (label, n) in enumerate(items):
        y = 6 + i * row
        parts.append(_text(left - 6, y + 15, _label(label, 8), "end"))
        length = span * n / top
        if n:
            parts.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="16" fill="{INK}"/>')
        parts.append(_text(left + length + 5, y + 15, str(n), cls="num", weight="bold"))
    parts.append(f'<line x1="{left}" y1="2" x2="{left}" y2="{8 + len(items) * row}" stroke="{INK}" stroke-width="1"/>')
    return _svg(title, 12 + max(len(items), 1) * row, parts)


def grouped(title, columns, rows):
    """A small bar per column for each row (e.g. one row per village, one bar per month), the number above each bar.
    columns: [column label]; rows: [(row label, [number per column])]."""
    rows = list(rows)
    top = max([n for _label_, values in rows for n in values] + [1])
    left, head, row = 78, 18, 46
    step = (WIDTH - left - 4) / max(len(columns), 1)
    bar = max(min(step * 0.6, 22), 4)
    size = 11 if step >= 20 else 9
    parts = [_text(left + step * (j + 0.5), 12, words, "middle", size, fill=INK) for j, words in enumerate(columns)]
    for i, (label, values) in enumerate(rows):
        base = head + (i + 1) * row - 4
        parts.append(_text(left - 6, base - 4, _label(label, 5), "end"))
        parts.append(f'<line x1="{left}" y1="{base}" x2="{WIDTH - 4}" y2="{base}" stroke="{FAINT}" stroke-width="1"/>')
        for j, n in enumerate(values):
            x = left + step * j + (step - bar) / 2
            height = (row - 18) * n / top
            if n:
                parts.append(f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="{INK}"/>')
            parts.append(_text(x + bar / 2, base - height - 3, str(n), "middle", size, cls="num", weight="bold"))
    return _svg(title, head + max(len(rows), 1) * row + 4, parts)
