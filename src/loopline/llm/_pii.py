"""PII detection and redaction: emails, phone numbers, payment card numbers (Luhn-checked),
IBANs (mod-97-checked), US social security numbers and IPv4 addresses.

Candidates are found by pattern and then confirmed by their checksum where one exists, so
`4111 1111 1111 1111` is a card and `4111 1111 1111 1112` is not. Overlapping finds are
resolved by type priority (IBAN, card, email, SSN, IP, phone) then length, and each kept
find is replaced by `[TYPE]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PII_TYPES = ("iban", "card", "email", "ssn", "ip", "phone")  # priority order on overlap

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*"
)
_DIGIT_RUN = re.compile(r"(?<!\w)\d+(?:[ -]\d+)*(?!\w)")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_IP = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{1,4}){1,5}(?![\w])"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _cards(text: str) -> Iterable[tuple[int, int]]:
    """Spans of Luhn-valid 13-19 digit numbers: in each run of digit groups (separated by
    single spaces or dashes), the widest windows of whole groups that pass, left to right."""
    for run in _DIGIT_RUN.finditer(text):
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", run.group())]
        i = 0
        while i < len(groups):
            found = None
            for j in range(len(groups), i, -1):
                a, b = groups[i][0], groups[j - 1][1]
                d = _digits(run.group()[a:b])
                if 13 <= len(d) <= 19 and luhn_ok(d):
                    found = (run.start() + a, run.start() + b, j)
                    break
            if found is None:
                i += 1
                continue
            yield found[0], found[1]
            i = found[2]


def _phone(m: str) -> bool:
    d = _digits(m)
    return (
        7 <= len(d) <= 15
        and not _ISO_DATE.fullmatch(m)
        and (m.startswith("+") or len(d) >= 9 or any(c in m for c in " .-()"))
    )


def _ibans(text: str) -> Iterable[tuple[int, int]]:
    """Spans of valid IBANs: from each country-code start, either one unbroken token or
    groups of four separated by single spaces (the last group 1-4 long); the longest such
    span that passes mod 97."""
    for m in _IBAN_START.finditer(text):
        chars = 0
        group = 0
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
        if i >= len(text) or not (text[i].isascii() and text[i].isalnum()):
            ends.append((i, chars))
        for end, n in reversed(ends):
            if n >= 15 and iban_ok(text[m.start() : end]):
                yield m.start(), end
                break


def _matches(kind: str, text: str) -> Iterable[tuple[int, int]]:
    if kind in ("iban", "card"):
        yield from (_ibans(text) if kind == "iban" else _cards(text))
        return
    pattern, confirm = _DETECTORS[kind]
    for m in pattern.finditer(text):
        if confirm(m.group()):
            yield m.start(), m.end()


_DETECTORS: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    "email": (_EMAIL, lambda m: True),
    "ssn": (_SSN, lambda m: not m.startswith(("000", "666", "9"))),
    "ip": (_IP, lambda m: True),
    "phone": (_PHONE, _phone),
}


@dataclass(frozen=True)
class PiiFind:
    type: str
    start: int
    end: int
    text: str


def find_pii(text: str, types: Iterable[str] = PII_TYPES) -> list[PiiFind]:
    """Non-overlapping PII finds in `text`, in order of position."""
    wanted = [t for t in PII_TYPES if t in set(types)]
    candidates: list[tuple[int, int, PiiFind]] = []
    for rank, kind in enumerate(wanted):
        for start, end in _matches(kind, text):
            candidates.append((rank, start - end, PiiFind(kind, start, end, text[start:end])))
    kept: list[PiiFind] = []
    for _, _, f in sorted(candidates, key=lambda c: (c[0], c[1], c[2].start)):
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


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
