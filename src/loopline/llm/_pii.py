"""PII detection and redaction: emails (internationalised too), phone numbers (NANP, international,
national), payment card numbers (Luhn-checked), IBANs (mod-97-checked), US social security
numbers and IPv4 addresses.

Each type proposes candidate spans from tight patterns, never one greedy regex over the text:

* a numeric candidate cannot start or end inside another token: not next to a word character,
  and not cut out of a number joined by `-` or `.` (`2025-11-03`, `10.0.0.1`);
* a candidate with several possible lengths (a spaced international phone, a spaced IBAN)
  proposes each of them, so a rejected long reading never hides a valid shorter one;
* checksums confirm cards (Luhn) and IBANs (mod 97); phone and card candidates that overlap a
  date (`2025-11-03`, `03/11/2025`, `11.03.2025`) are dropped;
* emails use Unicode word characters plus combining marks (`ë` written as `e` + U+0308,
  Devanagari vowel signs) and IDNA-style domain labels.

Overlapping candidates are then resolved by choosing the non-overlapping set that covers the
most characters (then: fewer odd-looking candidates, then fewer finds), so `415-555-0132
415-555-0199` is two phones and `+44 20 7946 0958 415 555 0199` is a UK and a US number.
Each kept find is replaced by `[TYPE]`.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

PII_TYPES = ("iban", "card", "email", "ssn", "ip", "phone")
_PRIORITY = ("email", "iban", "card", "ssn", "ip", "phone")  # one span, several types

# A numeric candidate starts after neither a word character, nor `+`, nor a digit joined by
# `-`/`.`; it ends before neither a word character nor `-`/`.` plus a digit.
_START = r"(?<![\w+])(?<![0-9][.-])"
_END = r"(?!\w)(?![.-][0-9])"
_END_RE = re.compile(_END)

_DATE = re.compile(
    r"(?<![0-9])(?:"
    r"(?:19|20)[0-9]{2}([-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])"
    r"|(?:0?[1-9]|[12][0-9]|3[01])([-./])(?:0?[1-9]|[12][0-9]|3[01])\2(?:19|20)[0-9]{2}"
    r"|(?:0?[1-9]|[12][0-9]|3[01])/(?:0?[1-9]|[12][0-9]|3[01])/[0-9]{2}"
    r")(?![0-9])"
)
_SSN = re.compile(_START + r"[0-9]{3}-[0-9]{2}-[0-9]{4}" + _END)
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IP = re.compile(_START + _OCTET + r"(?:\." + _OCTET + r"){3}" + _END)
# Cards: unbroken, or one separator throughout: 4-4-4-(1..4), 4-4-4-4-(1..3), 4-6-(4..5).
_CARDS = [
    re.compile(_START + body + _END)
    for body in (
        r"[0-9]{13,19}",
        r"[0-9]{4}(?P<sep>[ -])[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)[0-9]{1,4}",
        r"[0-9]{4}(?P<sep>[ -])[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)[0-9]{1,3}",
        r"[0-9]{4}(?P<sep>[ -])[0-9]{6}(?P=sep)[0-9]{4,5}",
    )
]
# Phones. NANP: 3-3-4 with one separator (or `(415) 555-0132`, or unbroken), optional +1/1.
_NANP = re.compile(
    _START + r"(?:\+1[ .-]?|1[ .-]?)?"
    r"(?:\([0-9]{3}\) ?[0-9]{3}[ .-]|[0-9]{3}(?P<sep>[ .-])[0-9]{3}(?P=sep)|[0-9]{6})[0-9]{4}"
    + _END
)
_LOCAL = re.compile(_START + r"[0-9]{3}-[0-9]{4}" + _END)  # 555-0132
# International (+ or 00) and national (leading 0) numbers: digit groups split by single
# separators; every group end is a possible end of the number (see _grouped).
# Group counts and sizes are bounded (15 and 12 digits at most) so that a long run of
# numbers costs linear time, not quadratic.
_INTL = re.compile(
    _START + r"(?:\+|00(?=[1-9]))[0-9]{1,15}"
    r"(?:[ .-]?\([0-9]{1,4}\)[ .-]?[0-9]{1,15})?(?:[ .-][0-9]{1,15}){0,14}"
)
_NATIONAL = re.compile(
    _START + r"(?:0[0-9]{1,11}|\(0[0-9]{1,4}\)[ .-]?[0-9]{1,11})(?:[ .-][0-9]{1,11}){0,10}"
)
_CC_ONE = re.compile(r"\+?1(?![0-9])")
_GROUP = re.compile(r"\(0\)|[0-9]+")
_IBAN_START = re.compile(r"(?<!\w)[A-Za-z]{2}[0-9]{2}")
_HAS_DIGIT = re.compile(r"[0-9]")

# Official IBAN lengths (SWIFT registry): preferred when several spaced readings pass mod 97.
_IBAN_LENGTHS = {
    country: int(n)
    for country, n in re.findall(
        r"([A-Z]{2})([0-9]{2})",
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 "
        "DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 "
        "HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 "
        "MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 "
        "RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 "
        "VG24 XK20 YE30",
    )
}


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (payment cards)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 == 1."""
    s = re.sub(r"\s", "", text).upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    moved = s[4:] + s[:4]
    if not (moved.isascii() and moved.isalnum()):
        return False
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _digits(text: str) -> str:
    return "".join(c for c in text if "0" <= c <= "9")


def _overlapping(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int, str]]:
    """Every match of `pattern`, one per start position: unlike finditer, a match does not
    hide the ones that start inside it (`0000 0000 020 7946 0958` still yields `020 ...`)."""
    m = pattern.search(text)
    while m is not None:
        yield m.start(), m.end(), m.group()
        m = pattern.search(text, m.start() + 1)


# -- candidates: (start, end, odd) per type; `odd` marks a less usual shape ----------------

Candidate = tuple[int, int, bool]


def _cards(text: str) -> Iterator[Candidate]:
    for pattern in _CARDS:
        for s, e, number in _overlapping(pattern, text):
            digits = _digits(number)
            if 13 <= len(digits) <= 19 and luhn_ok(digits):
                yield s, e, len(number.replace("-", " ").rsplit(" ", 1)[-1]) == 1


def _grouped(text: str, start: int, run: str, lo: int, hi: int, skip: int) -> Iterator[Candidate]:
    """Each prefix of a run of digit groups that ends on a whole group and holds lo..hi
    digits (not counting the first `skip` digits, nor a `(0)` trunk prefix). Dots do not mix
    with spaces or dashes (`002-01-0001 0.0.0.10` is an SSN and an IP, not one number)."""
    count = -skip
    seps: set[str] = set()
    for g in _GROUP.finditer(run):
        seps.update(c for c in run[g.start() - 1 : g.start()] if c in " .-")
        if "." in seps and len(seps) > 1:
            return
        if g.group() == "(0)":
            continue
        count += len(g.group())
        end = start + g.end()
        if count > hi:
            return
        if end < len(text) and text[end] == ")":
            continue
        if count >= lo and len(g.group()) >= 2 and _END_RE.match(text, end):
            yield start, end, False


def _phones(text: str) -> Iterator[Candidate]:
    for s, e, _ in _overlapping(_NANP, text):
        yield s, e, False
    for s, e, _ in _overlapping(_LOCAL, text):
        yield s, e, False
    for s, _, run in _overlapping(_INTL, text):  # E.164: at most 15 digits
        skip = 0 if run.startswith("+") else 2
        nanp = _CC_ONE.match(run, skip)  # `+1 ...` is NANP: exactly 11 digits
        lo, hi = (11, 11) if nanp else (8, 15)
        yield from _grouped(text, s, run, lo, hi, skip)
    for s, _, run in _overlapping(_NATIONAL, text):
        yield from _grouped(text, s, run, 9, 12, 0)


def _ssns(text: str) -> Iterator[Candidate]:
    for m in _SSN.finditer(text):
        area, group, serial = m.group().split("-")
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            yield m.start(), m.end(), False


def _ips(text: str) -> Iterator[Candidate]:
    for m in _IP.finditer(text):
        yield m.start(), m.end(), False


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _ibans(text: str) -> Iterator[Candidate]:
    """From each country-code start, one unbroken token or groups of four separated by single
    spaces (the last group 1-4 long): the reading of the country's official length if it
    passes mod 97, else the longest reading that passes."""
    for m in _IBAN_START.finditer(text):
        chars = group = 0
        ends: list[tuple[int, int]] = []  # (end offset, characters so far) at token ends
        i = m.start()
        while i < len(text) and chars < 34:
            c = text[i]
            if c.isascii() and c.isalnum():
                chars += 1
                group += 1
                i += 1
                continue
            if c == " " and group == 4 and i + 1 < len(text) and text[i + 1].isalnum():
                ends.append((i, chars))
                group = 0
                i += 1
                continue
            break
        if i >= len(text) or not _is_word(text[i]):
            ends.append((i, chars))
        valid = [(end, n) for end, n in ends if n >= 15 and iban_ok(text[m.start() : end])]
        if valid:
            official = _IBAN_LENGTHS.get(m.group()[:2].upper())
            end = next((e for e, n in valid if n == official), valid[-1][0])
            yield m.start(), end, False


@cache
def _email_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a reversed local part, a domain), built on first use. Characters: Unicode word
    characters plus combining marks (categories M*, which `\\w` leaves out: `e` + U+0308,
    Devanagari vowel signs), ZWNJ/ZWJ and the Catalan middle dot, as IDNA allows in labels."""
    marks: list[tuple[int, int]] = []
    for cp in [*range(0x0300, 0x20000), *range(0xE0100, 0xE01F0)]:
        if unicodedata.category(chr(cp))[0] == "M":
            if marks and marks[-1][1] == cp - 1:
                marks[-1] = (marks[-1][0], cp)
            else:
                marks.append((cp, cp))
    word = r"\w\u200c\u200d\u00b7" + "".join(
        f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in marks
    )
    letter = rf"(?:(?!_)[{word}])"
    label = rf"{letter}(?:(?:(?!_)[{word}-])*{letter})?"
    return (
        re.compile(rf"[{word}!#$%&'*+/=?^`{{|}}~.-]*"),
        re.compile(rf"(?:{label}[.\u3002\uff0e\uff61])+{label}"),
    )


_LABEL_DOTS = re.compile(r"[.\u3002\uff0e\uff61]")


def _emails(text: str) -> Iterator[Candidate]:
    """From each `@`: the dot-atom local part before it (RFC 5322 atext, Unicode letters),
    the domain after it; the top-level label has a letter (`a@b.com.42` is `a@b.com`)."""
    at = text.find("@")
    if at < 0:
        return
    local_run, domain = _email_res()
    while at >= 0:
        d = domain.match(text, at + 1)
        run = local_run.match(text[max(0, at - 256) : at][::-1])
        local = run.group()[::-1].rsplit("..", 1)[-1].lstrip(".") if run else ""
        if d and local and not local.endswith("."):
            labels = _LABEL_DOTS.split(d.group())
            end = d.end()
            while len(labels) > 2 and not any(c.isalpha() for c in labels[-1]):
                end -= len(labels.pop()) + 1
            if any(c.isalpha() for c in labels[-1]):
                yield at - len(local), end, False
        at = text.find("@", at + 1)


_FINDERS = {
    "email": _emails,
    "iban": _ibans,
    "card": _cards,
    "ssn": _ssns,
    "ip": _ips,
    "phone": _phones,
}
_DATED = ("card", "phone")  # types whose candidates must not overlap a date


@dataclass(frozen=True)
class PiiFind:
    type: str
    start: int
    end: int
    text: str


def _candidates(text: str, wanted: list[str]) -> dict[tuple[int, int], tuple[str, bool]]:
    numeric = _HAS_DIGIT.search(text) is not None
    dates: list[tuple[int, int]] = []
    if numeric and any(t in _DATED for t in wanted):
        dates = [m.span() for m in _DATE.finditer(text)]
    date_starts = [s for s, _ in dates]
    spans: dict[tuple[int, int], tuple[str, bool]] = {}
    for kind in wanted:
        if kind != "email" and not numeric:
            continue
        for start, end, odd in _FINDERS[kind](text):
            if kind in _DATED and dates:
                i = bisect_right(date_starts, end - 1) - 1  # last date starting before `end`
                if i >= 0 and dates[i][1] > start:
                    continue
            spans.setdefault((start, end), (kind, odd))  # `wanted` is in priority order
    return spans


def find_pii(text: str, types: Iterable[str] = PII_TYPES) -> list[PiiFind]:
    """Non-overlapping PII finds in `text`, in order of position: of all the candidates, the
    set that covers the most characters, then has the fewest odd shapes, then fewest finds."""
    chosen = set(types)
    spans = _candidates(text, [t for t in _PRIORITY if t in chosen])
    if not spans:
        return []
    order = sorted(spans, key=lambda se: se[1])
    ends = [e for _, e in order]
    m = len(text) + 2  # weights: coverage first, then fewer odd shapes, then fewer finds
    best = [0] * (len(order) + 1)  # best[i]: the best weight using the first i candidates
    back: list[int | None] = [None] * len(order)  # where to continue if candidate i is taken
    for i, (s, e) in enumerate(order):
        j = bisect_right(ends, s, 0, i)  # candidates ending at or before this start
        with_it = best[j] + (e - s) * m * m - spans[(s, e)][1] * m - 1
        if with_it > best[i]:
            best[i + 1], back[i] = with_it, j
        else:
            best[i + 1] = best[i]
    finds: list[PiiFind] = []
    i = len(order)
    while i > 0:
        prev = back[i - 1]
        if prev is None:
            i -= 1
            continue
        s, e = order[i - 1]
        finds.append(PiiFind(spans[(s, e)][0], s, e, text[s:e]))
        i = prev
    return finds[::-1]


def redact(text: str, types: Iterable[str] = PII_TYPES) -> tuple[str, list[PiiFind]]:
    """(`text` with each find replaced by `[TYPE]`, the finds)."""
    finds = find_pii(text, types)
    out, pos = [], 0
    for f in finds:
        out.append(text[pos : f.start])
        out.append(f"[{f.type.upper()}]")
        pos = f.end
    out.append(text[pos:])
    return "".join(out), finds


__all__ = ["PII_TYPES", "PiiFind", "find_pii", "iban_ok", "luhn_ok", "redact"]
