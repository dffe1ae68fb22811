"""PII redaction: no listed PII type passes through (hypothesis), checksums respected."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.llm import find_pii, redact
from loopline.llm._pii import iban_ok, luhn_ok

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _luhn_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise AssertionError("unreachable")


@st.composite
def cards(draw: st.DrawFn) -> str:
    n = draw(st.integers(13, 19))
    first = draw(st.sampled_from("3456"))
    body = first + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=n - 2, max_size=n - 2))
    )
    digits = body + _luhn_digit(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


IBAN_LENGTHS = {"DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "CH": 21}


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    n = IBAN_LENGTHS[country] - 4
    alphabet = (
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" if country in ("GB", "NL", "IT") else "0123456789"
    )
    bban = "".join(draw(st.lists(st.sampled_from(alphabet), min_size=n, max_size=n)))
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    iban = f"{country}{98 - number % 97:02d}{bban}"
    assert iban_ok(iban)
    spaced = draw(st.booleans())
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if spaced else iban


@st.composite
def phones(draw: st.DrawFn) -> str:
    d = st.text("0123456789", min_size=1, max_size=1)
    fmt = draw(st.sampled_from([
        "+{cc} {a}{b} {c}{d}{e}{f} {g}{h}{i}{j}",
        "({a}{b}{c}) {d}{e}{f}-{g}{h}{i}{j}",
        "{a}{b}{c}-{d}{e}{f}-{g}{h}{i}{j}",
        "+{cc}{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}",
        "0{a}{b}{c} {d}{e}{f}{g}{h}{i}",
        "{a}{b}{c}.{d}{e}{f}.{g}{h}{i}{j}",
    ]))  # fmt: skip
    values = {k: draw(d) for k in "abcdefghij"}
    values["cc"] = str(draw(st.integers(1, 99)))
    return fmt.format(**values)


@st.composite
def ssns(draw: st.DrawFn) -> str:
    area = draw(st.integers(1, 899).filter(lambda a: a != 666))
    return f"{area:03d}-{draw(st.integers(1, 99)):02d}-{draw(st.integers(1, 9999)):04d}"


ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
emails = st.emails()
PII = {
    "email": emails,
    "phone": phones(),
    "card": cards(),
    "iban": ibans(),
    "ssn": ssns(),
    "ip": ipv4,
}
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.;:!?'\"()", min_size=0, max_size=30)


def _canon(value: str) -> str:
    return re.sub(r"[\s.()+-]", "", value)


@FAST
@given(
    st.lists(
        st.tuples(
            words, st.sampled_from(sorted(PII)).flatmap(lambda k: PII[k].map(lambda v: (k, v)))
        ),
        min_size=1,
        max_size=4,
    ),
    words,
)
def test_no_listed_pii_type_passes_through_redaction(
    pieces: list[tuple[str, tuple[str, str]]], tail: str
) -> None:
    text = "".join(f"{w} {v} " for w, (_, v) in pieces) + tail
    clean, _ = redact(text)
    for _, (_, value) in pieces:
        assert value not in clean
        if sum(c.isdigit() for c in value) >= 7:  # the digits alone do not survive either
            assert _canon(value) not in _canon(clean)
    assert find_pii(clean) == [], (text, clean)  # nothing left to find


@FAST
@given(st.sampled_from(sorted(PII)).flatmap(lambda k: PII[k].map(lambda v: (k, v))))
def test_each_type_is_detected_as_itself(item: tuple[str, str]) -> None:
    kind, value = item
    found = find_pii(f"see {value} now")
    assert len(found) == 1, (value, found)
    (f,) = found
    assert f.text == value and (f.type == kind or {f.type, kind} <= {"card", "phone"})


def test_checksums_decide_cards_and_ibans() -> None:
    assert [f.type for f in find_pii("card 4111 1111 1111 1111")] == ["card"]
    assert "card" not in [f.type for f in find_pii("card 4111 1111 1111 1112")]
    assert [f.type for f in find_pii("iban DE89 3704 0044 0532 0130 00 ok")] == ["iban"]
    assert find_pii("iban DE88 3704 0044 0532 0130 00 ok") == [] or all(
        f.type != "iban" for f in find_pii("iban DE88 3704 0044 0532 0130 00 ok")
    )
    assert redact("order 12345 on 2024-01-15, total 99.50")[1] == []


def test_redaction_keeps_the_rest_of_the_text() -> None:
    clean, finds = redact("Mail ada@example.com or call +44 20 7946 0958 today.")
    assert clean == "Mail [EMAIL] or call [PHONE] today."
    assert [f.type for f in finds] == ["email", "phone"]
