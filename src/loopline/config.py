"""Settings, in one place: environment variables override `loopline.toml`, which
overrides the defaults.

`loopline.toml` is looked up in the current directory (or the file named by
`LOOPLINE_CONFIG`); its keys are the setting names without the `LOOPLINE_` prefix,
lower-case, under a `[loopline]` table:

    [loopline]
    home = ".loopline"
    db_url = "sqlite:///.loopline/loopline.db"
    artifacts_uri = ".loopline/artifacts"

Other tables (`[llm]`, read by the LLM provider) go through `config_section` by the same
rules: `LOOPLINE_<TABLE>_<KEY>` over the file over the defaults, unknown keys refused.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from loopline.errors import ConfigError

# Who is acting lives in `identity`; re-exported because lifecycle code imports it here.
from loopline.identity import current_user

_ENV_PREFIX = "LOOPLINE_"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build it with `load_settings()`."""

    home: Path
    db_url: str
    artifacts_uri: str
    # A run whose owner process is gone (same host) is failed at once; a run from
    # another host is "lost" once its heartbeat is older than this many seconds.
    lost_after_s: float = 120.0
    # Metric points are buffered and written in one transaction per flush.
    flush_every_points: int = 5000
    flush_interval_s: float = 1.0
    # While a run's writer thread is alive, CPython's GIL switch interval is lowered to this
    # (never raised): at the default 5 ms, a training loop waits up to 5 ms whenever the writer
    # holds the GIL; at 0.1 ms no `log_metric` call measured over 1 ms (ADR-051). 0: leave it.
    writer_switch_interval_s: float = 0.0001
    # Remote mode: with a server URL set, the library and CLI talk to `loopline server`
    # (authenticated by the API token) instead of the local store.
    url: str = ""
    token: str = ""
    # Compute engine for batch scoring, drift over large data and sweeps: "local" or "ray"
    # (an existing Ray cluster at `ray_address`, else a local one).
    engine: str = "local"
    ray_address: str = ""
    # Team-server limits, per API token (or client address before authentication).
    rate_limit_per_s: float = 500.0
    rate_limit_burst: int = 2000
    max_request_mb: float = 32.0
    max_artifact_mb: float = 4096.0
    # Scoring server (`loopline models serve`): rows per request (larger jobs: `loopline score`),
    # and a file of bearer tokens, one per line, that every route but the health checks
    # then requires (`--token-file`).
    serve_max_rows: int = 10_000
    serve_token_file: str = ""
    # Adaptive micro-batching (serving/_batching.py), opt-in: the most rows scored in one
    # predict call (0: off), and how long a request may wait for its batch before a 503.
    serve_batch_max_size: int = 0
    serve_batch_max_latency_ms: float = 1000.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["home"] = str(self.home)
        d["token"] = "***" if self.token else ""  # never print a secret
        return d


def config_table(
    name: str, env: Mapping[str, str] | None = None, *, hint: str = "see README, Configuration"
) -> dict[str, Any]:
    """The `[name]` table of the config file: the file `LOOPLINE_CONFIG` names (which must
    exist), else `./loopline.toml`; {} when there is no file or no such table. The one
    reader of that file: settings take `[loopline]`, the LLM provider `[llm]`."""
    env = os.environ if env is None else env
    path = Path(env.get("LOOPLINE_CONFIG", "loopline.toml"))
    if not path.exists():
        if "LOOPLINE_CONFIG" in env:
            raise ConfigError(
                f"config file {path} named by LOOPLINE_CONFIG does not exist",
                hint="point LOOPLINE_CONFIG at an existing loopline.toml or unset it",
            )
        return {}
    import tomllib  # only when there is a file: most projects have none (start-up cost)

    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}", hint="fix the syntax or remove the file"
        ) from exc
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table", hint=hint)
    return table


def config_values(
    table: Mapping[str, Any], defaults: Mapping[str, Any], where: str, *, hint: str
) -> dict[str, Any]:
    """`table` read by the rules settings follow: no unknown key, each value of its default's
    type (a float default takes a non-negative number, an int an integer, a str text, a dict
    a table), an absent key its default. `where` names the table in errors (`[llm]`)."""
    unknown = sorted(set(table) - set(defaults))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}",
            hint=f"known keys are {', '.join(sorted(defaults))}; {hint}",
        )
    return {
        key: default if table.get(key) is None else _coerce(f"{where} {key}", table[key], default)
        for key, default in defaults.items()
    }


def config_section(
    name: str, defaults: Mapping[str, Any], env: Mapping[str, str] | None = None, *, hint: str
) -> dict[str, Any]:
    """The `[name]` table of the config file, checked by `config_values`, with a
    `LOOPLINE_<NAME>_<KEY>` environment variable over each value that is not a table: how
    the LLM provider reads `[llm]`, as `load_settings` reads `[loopline]`."""
    env = os.environ if env is None else env
    values = config_values(config_table(name, env, hint=hint), defaults, f"[{name}]", hint=hint)
    for key, default in defaults.items():
        variable = f"{_ENV_PREFIX}{name.upper()}_{key.upper()}"
        if env.get(variable, "") != "" and not isinstance(default, dict):
            values[key] = _coerce(variable, env[variable], default)
    return values


def _read_toml(env: Mapping[str, str]) -> dict[str, Any]:
    table = config_table("loopline", env)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(table) - known)
    if unknown:
        path = env.get("LOOPLINE_CONFIG", "loopline.toml")
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)} in [loopline]",
            hint=f"known settings are {', '.join(sorted(known))}",
        )
    return dict(table)


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, float):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(
                f"setting {name}={raw!r} is not a non-negative number",
                hint=f"set {name} to a number such as 60",
            )
        return value
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"setting {name}={raw!r} is not an integer", hint=f"set {name} to an integer"
            ) from None
    if isinstance(default, dict) and not isinstance(raw, dict):
        raise ConfigError(f"setting {name} must be a table", hint="write it as a TOML table")
    if isinstance(default, str) and not isinstance(raw, str):
        raise ConfigError(f"setting {name}={raw!r} is not text", hint="put it in quotes")
    return raw


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Resolve settings from `env` (default `os.environ`), `loopline.toml` and defaults."""
    env = dict(os.environ if env is None else env)
    file_values = _read_toml(env)

    def pick(name: str) -> Any:
        key = _ENV_PREFIX + name.upper()
        if key in env and env[key] != "":
            return env[key]
        return file_values.get(name)

    home = Path(pick("home") or ".loopline").expanduser()
    db_url = pick("db_url") or f"sqlite:///{home / 'loopline.db'}"
    artifacts_uri = pick("artifacts_uri") or str(home / "artifacts")
    extra: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name in {"home", "db_url", "artifacts_uri"}:
            continue
        raw = pick(f.name)
        if raw is not None:
            extra[f.name] = _coerce(_ENV_PREFIX + f.name.upper(), raw, f.default)
    return Settings(home=home, db_url=str(db_url), artifacts_uri=str(artifacts_uri), **extra)


__all__ = [
    "Settings",
    "config_section",
    "config_table",
    "config_values",
    "current_user",
    "load_settings",
]
