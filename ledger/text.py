"""Making user text safe to show: nothing typed into a memo can drive the terminal or run in a spreadsheet."""

from __future__ import annotations

import difflib
import unicodedata

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\x1b": "\\e"}


def inert(text: str) -> str:
    """`text` with every control, format and separator character shown as a visible escape.

    Covers C0/C1 controls (ESC, carriage return, backspace), DEL, zero-width
    and bidirectional override characters (category Cf) and line/paragraph
    separators, so that a memo can neither move the cursor, recolour the
    screen, hide text nor reverse it. Rich markup is handled separately by
    never passing user text through the markup parser.
    """
    if text.isprintable():
        return text
    return "".join(_show(char) for char in text)


def _show(char: str) -> str:
    if char.isprintable():
        return char
    if char in _SHORT:
        return _SHORT[char]
    if char == " ":
        return char
    code = ord(char)
    if unicodedata.category(char) in ("Zs",):
        return char
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def did_you_mean(name: str, known, cutoff: float = 0.75) -> str:
    """'; did you mean 'drones'?' when one of the `known` names is close to `name`, else ''."""
    near = difflib.get_close_matches(name, list(known), n=1, cutoff=cutoff)
    return f"; did you mean {near[0]!r}?" if near else ""


# What a spreadsheet (Excel, LibreOffice, Google Sheets) takes as the start of a formula in a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text):
    """Text a spreadsheet shows as text: a string that would start a formula gets a leading apostrophe.

    The one guard of every CSV fundledger writes (reports, exports, an
    import's unmatched rows). Anything but a string (an amount, a number)
    is returned as it is: a negative amount stays a number a spreadsheet
    reads as one.
    """
    return "'" + text if isinstance(text, str) and text.startswith(FORMULA_STARTS) else text
