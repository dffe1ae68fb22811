"""PII redaction that holds (issue 15): personal data reached the LLM provider through the
guardrails. Each regression test names its finding; the property tests then embed every PII
type the module lists in noisy text (digits, dates, punctuation, Unicode words) and in lists
of adjacent values, and require the redacted text to be exactly the input with each inserted
value, and nothing else, replaced by its `[TYPE]`."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loopline.llm import redact
from loopline.llm._pii import PII_TYPES, iban_ok, luhn_ok

PROPS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- findings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call log 2025-11-03 612.611.2323", "Call log 2025-11-03 [PHONE]"),
        ("03/11/2025 612.611.2323", "03/11/2025 [PHONE]"),
        ("11.03.2025 (612) 611-2323 called", "11.03.2025 [PHONE] called"),
        ("2025-11-03 +44 20 7946 0958", "2025-11-03 [PHONE]"),
        ("call +44 20 7946 0958 2025-11-03", "call [PHONE] 2025-11-03"),
        ("call +44 20 7946 0958 03/11/2025", "call [PHONE] 03/11/2025"),
        ("on 11.03.2025 020 7946 0958", "on 11.03.2025 [PHONE]"),
    ],
)
def test_a_date_next_to_a_phone_does_not_hide_it(text: str, expected: str) -> None:
    """Finding 15.1: the phone pattern swallowed the date before it, the too-long match was
    rejected, and the phone was never tried on its own, so it reached the provider."""
    assert redact(text)[0] == expected


@pytest.mark.parametrize("sep", [" ", ", ", "/", "; ", " / ", "\n"])
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("415-555-0132", "415-555-0199"),
        ("(415) 555-0132", "+1 415 555 0199"),
        ("+44 20 7946 0958", "415 555 0199"),
        ("+33 1 23 45 67 89", "020 7946 0958"),
        ("612.611.2323", "555-0132"),
    ],
)
def test_adjacent_phones_are_two_phones_not_a_card(a: str, b: str, sep: str) -> None:
    """Finding 15.2: `415-555-0132 415-555-0199` became `415-[CARD]`: the card pattern ran
    across two phones (and left the first one's area code in the clear)."""
    clean, finds = redact(f"Phones: {a}{sep}{b}.")
    assert clean == f"Phones: [PHONE]{sep}[PHONE]."
    assert [f.text for f in finds] == [a, b]


@pytest.mark.parametrize(
    "email",
    [
        "a@ünï.com",
        "ünï@example.com",
        "josé.müller@bücher.de",
        "用户@例子.广告",
        "почта@пример.рф",
        "δοκιμή@παράδειγμα.δοκιμή",
        "अजय@डाटामेल.भारत",  # Devanagari vowel signs are combining marks, not \w
        unicodedata.normalize("NFD", "zoë.ünï@bücher.de"),  # decomposed: letter + mark
        "info@xn--bcher-kva.example",
    ],
)
def test_internationalised_emails_are_redacted(email: str) -> None:
    """Finding 15.3: emails with non-ASCII domains or local parts were not redacted."""
    clean, finds = redact(f"write to {email}, please.")
    assert clean == "write to [EMAIL], please."
    assert [(f.type, f.text) for f in finds] == [("email", email)]


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "3782 822463 10005"]
)
def test_a_card_between_words_is_redacted_alone(card: str) -> None:
    """Finding 15.2 (cards): a card is its own span, not widened into the numbers nearby."""
    assert redact(f"pay {card} today, ref 2025-11-03")[0] == "pay [CARD] today, ref 2025-11-03"
    assert redact(f"cards {card}, {card}/{card}")[0] == "cards [CARD], [CARD]/[CARD]"


def test_plain_numbers_dates_and_versions_are_left_alone() -> None:
    """Finding 15.2 (the other side): the fix must not redact what is not PII."""
    text = "order 12345 on 2024-01-15, total 99.50 at 10:30, v1.2.3, pi 3.14159, 1/2/2025"
    assert redact(text) == (text, [])


# -- property: every listed type, exactly its span -----------------------------------------

# Filler that cannot form PII on its own: words without digits (ASCII and not), numbers of at
# most four digits, decimals, times, money, percentages, dates, punctuation.
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüßéèñçøåłžœΩλ日本語"
LETTERS += "\u0131\u0434\u0430\u0442\u0430"  # dotless i, Cyrillic
words = st.text(LETTERS, min_size=1, max_size=8)
bare_numbers = st.one_of(
    st.integers(0, 9999).map(str),
    st.tuples(st.integers(0, 999), st.integers(0, 99)).map(lambda t: f"{t[0]}.{t[1]:02d}"),
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.integers(0, 999).map(lambda n: f"${n}.99"),
    st.integers(0, 100).map(lambda n: f"{n}%"),
    st.integers(1, 31).map(lambda n: f"{n}th"),
)


@st.composite
def dates(draw: st.DrawFn) -> str:
    y, m, d = draw(st.integers(1990, 2030)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    fmt = draw(st.sampled_from(["iso", "slash", "dot", "ymd-slash", "us-short"]))
    return {
        "iso": f"{y}-{m:02d}-{d:02d}",
        "slash": f"{d:02d}/{m:02d}/{y}",
        "dot": f"{d:02d}.{m:02d}.{y}",
        "ymd-slash": f"{y}/{m:02d}/{d:02d}",
        "us-short": f"{m:02d}/{d:02d}/{y % 100:02d}",
    }[fmt]


punctuation = st.sampled_from(["—", "…", "!", "?", "(", ")", '"', "'", "&", "«", "»", "·"])
filler_token = st.one_of(
    words.map(lambda w: ("word", w)),
    bare_numbers.map(lambda n: ("bare", n)),
    dates().map(lambda d: ("date", d)),
    punctuation.map(lambda p: ("punct", p)),
)

# A number written right after a space-grouped phone could be one more group of it
# (`+44 20 7946 0958 12`), so bare numbers meet PII, and each other, through a separator that
# no phone or card format uses; words, dates and punctuation may touch it through a space.
LOOSE = [" ", "\n"]
STRICT = [", ", "; ", ": ", " / ", " (", " \u2013 ", "\t"]


def _join(tokens: list[tuple[str, str]], seps: list[str]) -> str:
    out = ""
    for i, (kind, tok) in enumerate(tokens):
        if i:
            sep = seps[i - 1]
            if sep in LOOSE and "bare" in (tokens[i - 1][0], kind):
                sep = ", "
            out += sep
        out += tok
    return out


@st.composite
def filler(draw: st.DrawFn) -> list[tuple[str, str]]:
    return draw(st.lists(filler_token, max_size=6))


def _luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def _digits(draw: st.DrawFn, n: int) -> str:
    return "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n, max_size=n)))


CARD_BRANDS = [  # prefix, lengths
    ("4", (13, 16, 19)), ("51", (16,)), ("55", (16,)), ("2221", (16,)), ("34", (15,)),
    ("37", (15,)), ("6011", (16,)), ("65", (16,)), ("35", (16,)), ("36", (14,)),
    ("62", (16, 17, 18, 19)),
]  # fmt: skip


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix, lengths = draw(st.sampled_from(CARD_BRANDS))
    n = draw(st.sampled_from(lengths))
    number = _luhn_complete(prefix + _digits(draw, n - len(prefix) - 1))
    sep = draw(st.sampled_from(["", " ", "-"]))
    if sep and n in (14, 15) and draw(st.booleans()):  # Amex / Diners: 4-6-5, 4-6-4
        return sep.join([number[:4], number[4:10], number[10:]])
    return sep.join(number[i : i + 4] for i in range(0, n, 4))


PHONE_FORMATS = [
    # NANP
    "N##-N##-####", "(N##) N##-####", "N##.N##.####", "N## N## ####", "N##N######",
    "+1 N## N## ####", "+1-N##-N##-####", "1-N##-N##-####", "+1 (N##) N##-####",
    "+1N##N######", "1 (N##) N##-####", "N##-####",
    # international
    "+44 20 #### ####", "+44 (0)20 #### ####", "+44 7### ######", "+33 N ## ## ## ##",
    "+49 30 #######", "+49 1## #######", "+91 N#### #####", "+86 1## #### ####",
    "+61 N #### ####", "+353 1 ### ####", "+7 9## ###-##-##", "+4915#########",
    "0044 20 #### ####", "+32 4## ## ## ##", "+31 6 ########", "+34 6## ## ## ##",
    # national
    "020 #### ####", "07### ######", "0N ## ## ## ##", "030 #######", "(020) #### ####",
    "0N##-#######",
]  # fmt: skip


@st.composite
def phones(draw: st.DrawFn) -> str:
    fmt = draw(st.sampled_from(PHONE_FORMATS))
    out = []
    for c in fmt:
        if c == "#":
            c = draw(st.sampled_from("0123456789"))
        elif c == "N":
            c = draw(st.sampled_from("23456789"))
        out.append(c)
    return "".join(out)


IBAN_LENGTHS = {
    "DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "CH": 21, "AT": 20,
    "PL": 28, "PT": 25, "IE": 22, "NO": 15, "SE": 24, "DK": 18, "FI": 18, "LU": 20, "MT": 31,
}  # fmt: skip
LETTER_BBAN = {"GB", "NL", "IT", "IE", "MT"}


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    n = IBAN_LENGTHS[country] - 4
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" if country in LETTER_BBAN else "0123456789"
    bban = "".join(draw(st.lists(st.sampled_from(alphabet), min_size=n, max_size=n)))
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    iban = f"{country}{98 - number % 97:02d}{bban}"
    assert iban_ok(iban)
    if draw(st.booleans()):
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@st.composite
def ssns(draw: st.DrawFn) -> str:
    area = draw(st.integers(1, 899).filter(lambda a: a != 666))
    return f"{area:03d}-{draw(st.integers(1, 99)):02d}-{draw(st.integers(1, 9999)):04d}"


ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))

# Internationalised emails: atoms of ASCII atext and Unicode letters (some decomposed into a
# letter and combining marks, some Devanagari with vowel signs), IDNA-style domain labels.
UNI_WORDS = ["ünï", "josé", "müller", "用户", "例子", "почта", "пример", "δοκιμή", "अजय", "भारत"]
UNI_WORDS += [unicodedata.normalize("NFD", w) for w in ("zoë", "ñandú", "çà")]
atext = st.text("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=6)
atom = st.one_of(atext, st.sampled_from(UNI_WORDS))
label_core = st.one_of(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
    st.sampled_from(UNI_WORDS),
)


@st.composite
def labels(draw: st.DrawFn) -> str:
    parts = draw(st.lists(label_core, min_size=1, max_size=2))
    return "-".join(parts)


@st.composite
def idn_emails(draw: st.DrawFn) -> str:
    local = ".".join(draw(st.lists(atom, min_size=1, max_size=3)))
    domain = draw(st.lists(labels(), min_size=1, max_size=3))
    tld = draw(st.one_of(st.sampled_from(["com", "de", "рф", "中国", "भारत", "xn--p1ai"]), words))
    return f"{local}@{'.'.join([*domain, tld])}"


PII: dict[str, st.SearchStrategy[str]] = {
    "email": st.one_of(st.emails(), idn_emails()),
    "phone": phones(),
    "card": cards(),
    "iban": ibans(),
    "ssn": ssns(),
    "ip": ipv4,
}
pii_item = st.sampled_from(sorted(PII)).flatmap(lambda k: PII[k].map(lambda v: (k, v)))


def test_the_property_covers_every_listed_type() -> None:
    """Finding 15 (scope): the properties below generate every type the module supports."""
    assert set(PII) == set(PII_TYPES)


def _sep(draw: st.DrawFn, touching_bare: bool, before_email: bool) -> str:
    choices = STRICT if touching_bare else LOOSE + STRICT
    if before_email:  # `/` is a legal local-part character: it would join the address
        choices = [s for s in choices if s[-1] not in "/"]
    return draw(st.sampled_from(choices))


@st.composite
def embedded(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(text, kind, value, expected): `value` between two runs of filler."""
    kind, value = draw(pii_item)
    before, after = draw(filler()), draw(filler())
    seps = draw(st.lists(st.sampled_from(LOOSE + STRICT), min_size=6, max_size=6))
    left = _join(before, seps) + _sep(draw, bool(before) and before[-1][0] == "bare", True)
    right = _sep(draw, bool(after) and after[0][0] == "bare", False) + _join(after, seps)
    return left + value + right, kind, value, f"{left}[{kind.upper()}]{right}"


@PROPS
@given(embedded())
@example(
    ("Call log 2025-11-03 612.611.2323", "phone", "612.611.2323", "Call log 2025-11-03 [PHONE]")
)
@example(("a@ünï.com", "email", "a@ünï.com", "[EMAIL]"))
def test_any_listed_pii_in_noisy_text_is_redacted_exactly(case: tuple[str, str, str, str]) -> None:
    """Findings 15.1-15.3 generalised: whatever surrounds it, a listed PII value is found as
    itself and replaced, and the text around it is byte-for-byte unchanged."""
    text, kind, value, expected = case
    clean, finds = redact(text)
    assert clean == expected, (text, finds)
    assert [(f.type, f.text) for f in finds] == [(kind, value)]


LIST_SEPS = [" ", ", ", "/", "; ", " / ", "\n"]


@PROPS
@given(st.lists(pii_item, min_size=2, max_size=4), st.data())
def test_lists_of_adjacent_pii_are_redacted_item_by_item(
    items: list[tuple[str, str]], data: st.DataObject
) -> None:
    """Finding 15.2 generalised: values separated only by a space, comma, slash, semicolon
    or newline are redacted one by one, none widened into its neighbour."""
    text, expected = items[0][1], f"[{items[0][0].upper()}]"
    for kind, value in items[1:]:
        seps = [s for s in LIST_SEPS if not (kind == "email" and s.endswith("/"))]
        sep = data.draw(st.sampled_from(seps))
        text += sep + value
        expected += f"{sep}[{kind.upper()}]"
    clean, finds = redact(text)
    assert clean == expected, (text, finds)
    assert [(f.type, f.text) for f in finds] == items


@PROPS
@given(
    st.lists(filler_token, max_size=12),
    st.lists(st.sampled_from(LOOSE + STRICT), min_size=11, max_size=11),
)
def test_filler_alone_is_left_alone(tokens: list[tuple[str, str]], seps: list[str]) -> None:
    """The other side of the property: the surrounding text used above holds no PII, so any
    change to it would be over-redaction, not a find."""
    text = _join(tokens, seps)
    assert redact(text) == (text, [])


def _redact_types(types: tuple[str, ...]) -> Callable[[str], str]:
    return lambda text: redact(text, types)[0]


def test_type_subsets_still_redact_exactly() -> None:
    """PiiRedaction(types=...) calls redact with a subset: the chosen types alone."""
    text = "mail ünï@bücher.de, call 415-555-0132 2025-11-03"
    assert _redact_types(("phone",))(text) == "mail ünï@bücher.de, call [PHONE] 2025-11-03"
    assert _redact_types(("email",))(text) == "mail [EMAIL], call 415-555-0132 2025-11-03"
