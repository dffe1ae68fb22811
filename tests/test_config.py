from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopline.config import load_settings
from loopline.errors import ConfigError


def test_defaults_live_under_home() -> None:
    s = load_settings({})
    assert s.home == Path(".loopline")
    assert s.db_url == "sqlite:///.loopline/loopline.db"
    assert s.artifacts_uri == ".loopline/artifacts"


def test_env_overrides_file_overrides_default(tmp_path: Path) -> None:
    cfg = tmp_path / "loopline.toml"
    cfg.write_text('[loopline]\nhome = "/srv/ll"\nlost_after_s = 30\n')
    env = {"LOOPLINE_CONFIG": str(cfg)}
    s = load_settings(env)
    assert s.home == Path("/srv/ll")
    assert s.db_url == "sqlite:////srv/ll/loopline.db"
    assert s.lost_after_s == 30.0
    s = load_settings({**env, "LOOPLINE_HOME": "/other", "LOOPLINE_LOST_AFTER_S": "5"})
    assert s.home == Path("/other")
    assert s.lost_after_s == 5.0


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "loopline.toml"
    cfg.write_text('[loopline]\nhoem = "x"\n')
    with pytest.raises(ConfigError, match="hoem"):
        load_settings({"LOOPLINE_CONFIG": str(cfg)})


def test_broken_toml_and_missing_file_are_clear(tmp_path: Path) -> None:
    cfg = tmp_path / "loopline.toml"
    cfg.write_text("[loopline\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"LOOPLINE_CONFIG": str(cfg)})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"LOOPLINE_CONFIG": str(tmp_path / "nope.toml")})


@given(st.text(min_size=1).filter(lambda s: s.strip() != "" and "\x00" not in s))
def test_numeric_settings_parse_or_fail_clearly(raw: str) -> None:
    try:
        expected = float(raw)
    except ValueError:
        expected = math.nan
    if math.isfinite(expected) and expected >= 0:
        assert load_settings({"LOOPLINE_LOST_AFTER_S": raw}).lost_after_s == expected
    else:
        with pytest.raises(ConfigError, match="LOOPLINE_LOST_AFTER_S"):
            load_settings({"LOOPLINE_LOST_AFTER_S": raw})
