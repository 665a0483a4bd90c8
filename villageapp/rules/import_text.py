"""Text helpers for bringing in a village's existing 村规民约 (issue 15): normalising pasted or decoded text, and
numbers as rulebooks write them (一百零五, １０)."""
import re

from .data import cn_number  # noqa: F401  (one way to write 第十二条; the parser and the .docx reader take it from here)

TO_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")


# ---- normalising ----------------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x0b": "\n", "\x0c": "\n", "\x85": "\n"})


def clean(text):
    """Line breaks as \\n, invisible and control characters gone, each line trimmed (full-width spaces and tabs
    too), at most one blank line in a row. Idempotent; never raises."""
    text = text.replace("\r\n", "\n").translate(_BREAKS).translate(_INVISIBLE)
    text = "".join(ch for ch in text if ch >= " " or ch in "\n\t")
    lines, blank = [], False
    for line in text.split("\n"):
        line = re.sub(r"[ \t\u3000\xa0]+", " ", line.strip())
        if line or not blank:
            lines.append(line)
        blank = not line
    return "\n".join(lines).strip("\n")


# ---- numbers as written ---------------------------------------------------------------------------------

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
CN_CHARS = "零〇○一二两三四五六七八九十百"


def cn_value(numeral):
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105, 10 / １０ → 10; None if it is not a number."""
    numeral = numeral.translate(TO_ASCII)
    if numeral.isdigit():
        return int(numeral)
    total, digit = 0, None
    for ch in numeral:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in "十百":
            total += (1 if digit is None else digit) * (10 if ch == "十" else 100)
            digit = None
        else:
            return None
    return total + (digit or 0)


