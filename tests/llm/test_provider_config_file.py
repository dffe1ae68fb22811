"""The LLM provider reads its `[llm]` table through `loopline.config`, the reader behind
`load_settings`: the same file (LOOPLINE_CONFIG, else ./loopline.toml), the same errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopline.config import load_settings
from loopline.errors import ConfigError
from loopline.llm import Pricing, provider_from_config

TOML = (
    '[loopline]\nlost_after_s = {lost}\n[llm]\nbase_url = "http://127.0.0.1:9/v1"\n'
    "[llm.pricing.toy-1]\ninput_per_mtok = {price}\noutput_per_mtok = 2\n"
)


def test_pricing_comes_from_the_file_settings_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("loopline.toml").write_text(TOML.format(lost=11, price=1))
    assert load_settings().lost_after_s == 11.0
    assert provider_from_config().pricing == {"toy-1": Pricing(1.0, 2.0)}

    named = tmp_path / "elsewhere.toml"  # LOOPLINE_CONFIG wins over ./loopline.toml for both
    named.write_text(TOML.format(lost=22, price=7))
    monkeypatch.setenv("LOOPLINE_CONFIG", str(named))
    assert load_settings().lost_after_s == 22.0
    assert provider_from_config().pricing == {"toy-1": Pricing(7.0, 2.0)}


def test_a_bad_config_file_fails_the_provider_as_it_fails_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPLINE_CONFIG", str(tmp_path / "nope.toml"))
    for read in (load_settings, provider_from_config):
        with pytest.raises(ConfigError, match="does not exist"):
            read()
    Path("loopline.toml").write_text("[llm\n")
    monkeypatch.delenv("LOOPLINE_CONFIG")
    for read in (load_settings, provider_from_config):
        with pytest.raises(ConfigError, match="not valid TOML"):
            read()
    Path("loopline.toml").write_text('llm = "x"\n')
    with pytest.raises(ConfigError, match=r"\[llm\] must be a table"):
        provider_from_config()


def test_llm_values_are_checked_as_settings_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """One set of rules for every table: unknown keys, numbers and tables are checked the
    way `[loopline]` settings are, and the error names the key (before: a raw ValueError or
    AttributeError traceback, and a misspelled key silently ignored)."""
    base = '[llm]\nbase_url = "http://127.0.0.1:9/v1"\n'
    cases = {
        base + 'base_ur = "x"\n': r"\[llm\]: unknown key\(s\) base_ur",
        base + "[llm.pricing.toy-1]\ninput_per_mtok = 'cheap'\n": (
            r"\[llm.pricing.toy-1\] input_per_mtok='cheap' is not a non-negative number"
        ),
        base + "[llm.pricing.toy-1]\noutput_per_mtok = -1\n": "is not a non-negative number",
        base + "[llm.pricing.toy-1]\ninput_per_mtoken = 1\n": r"unknown key\(s\) input_per_mtoken",
        base + "pricing = 3\n": r"\[llm\] pricing must be a table",
        base + "[llm.pricing]\ntoy-1 = 3\n": r"\[llm.pricing.toy-1\] must be a table of prices",
        base + "max_retries = 'many'\n": r"\[llm\] max_retries='many' is not an integer",
        base + "model = 3\n": r"\[llm\] model=3 is not text",
    }
    for text, message in cases.items():
        Path("loopline.toml").write_text(text)
        with pytest.raises(ConfigError, match=message):
            provider_from_config()
    Path("loopline.toml").write_text(base + "timeout_s = 5\nrequests_per_second = 2\n")
    monkeypatch.setenv("LOOPLINE_LLM_TIMEOUT_S", "soon")  # a variable wins, and is checked too
    with pytest.raises(ConfigError, match="LOOPLINE_LLM_TIMEOUT_S='soon' is not a non-negative"):
        provider_from_config()
    monkeypatch.setenv("LOOPLINE_LLM_TIMEOUT_S", "7")
    provider = provider_from_config()
    assert provider.limiter.interval == 0.5 and provider._client.timeout.read == 7.0
