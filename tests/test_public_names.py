"""Each public name is listed once (issue 19): one object, one package's `__all__`.

The rule, measured on the imported objects:

- A public module is any `loopline.*` module with no `_private` part in its dotted path
  (`loopline.store.records`, `loopline.ops.audit`); its `__all__` is what it lists.
- An object (class, function, module) listed by two public modules is a duplicate, unless
  one module is inside the other: a package's `__init__` may list the names of its own
  public submodules (`loopline.store` over `store.records` and `store.interfaces`, `ops` over
  `ops.audit`), since that is how a package with wings keeps one import path for its users.
- The top-level `loopline` namespace is exempt: it re-exports the everyday names lazily
  (`ll.start_run`, `ll.promote`) and is the one place meant to repeat them.
- A constant (str, number, tuple...) cannot be told apart from an equal one by identity
  (Python shares small values), so constants count as the same when name and value agree.

Why: a name listed by two packages has two homes, and code drifts between them (the layering
test cannot see that `gates.GatePolicy` is `policy.GatePolicy`). Import it from its owner.
The duplicates that exist today, in files other work owns, are frozen in DUPLICATES_ALLOWED;
that list may only shrink (the second test fails when an entry is gone).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
_VALUES = (str, bytes, int, float, bool, tuple, frozenset, type(None))

# Listed twice today. Each entry is the sorted listings, by their topmost public modules.
DUPLICATES_ALLOWED = {
    # config re-exports the identity rule "because lifecycle code imports it here": 14
    # importers (cli, monitoring, pipelines, registry, serving, gates) still to move
    ("loopline.config.current_user", "loopline.identity.current_user"),
    # gates re-exports the pure policy rules (importers: pipelines, cli/_policy, tests)
    ("loopline.gates.GateDecision", "loopline.policy.GateDecision"),
    ("loopline.gates.GatePolicy", "loopline.policy.GatePolicy"),
    ("loopline.gates.PromotionGate", "loopline.policy.PromotionGate"),
    ("loopline.gates.Rule", "loopline.policy.Rule"),
    ("loopline.gates.RuleResult", "loopline.policy.RuleResult"),
    ("loopline.gates.parse_rule", "loopline.policy.parse_rule"),
    # monitoring re-exports the alert-sink seam that lives in the store (ADR-038); importers:
    # cli/_monitor, server/ui, tests/monitoring, docs/vocabulary.md
    ("loopline.monitoring.AlertSink", "loopline.store.AlertSink"),
    ("loopline.monitoring.DeliveryError", "loopline.store.DeliveryError"),
    ("loopline.monitoring.Notification", "loopline.store.Notification"),
    ("loopline.monitoring.StoreSink", "loopline.store.StoreSink"),
    ("loopline.monitoring.WebhookSink", "loopline.store.WebhookSink"),
    ("loopline.monitoring.deliver", "loopline.store.deliver"),
    ("loopline.monitoring.redeliver", "loopline.store.redeliver"),
    ("loopline.monitoring.window_seconds", "loopline.store.window_seconds"),
}


def _public_modules() -> list[str]:
    names = []
    for path in sorted((SRC / "loopline").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        folders = [SRC.joinpath(*parts[:i]) for i in range(1, len(parts))]
        if not all((folder / "__init__.py").exists() for folder in folders):
            continue  # scripts such as the Alembic env and its migrations, not modules
        if parts[-1] == "__init__":
            parts.pop()
        if len(parts) > 1 and not any(p.startswith("_") for p in parts[1:]):
            names.append(".".join(parts))
    return names


def _inside(module: str, package: str) -> bool:
    return module.startswith(package + ".")


def outermost(where: list[tuple[str, str]]) -> tuple[str, ...] | None:
    """The listings (module, name) of one object that count: a listing inside another
    listing module's package is that package's own wing. None when one listing is left."""
    outer = [(m, n) for m, n in where if not any(_inside(m, other) for other, _ in where)]
    return tuple(sorted(f"{m}.{n}" for m, n in outer)) if len(outer) > 1 else None


def duplicates() -> set[tuple[str, ...]]:
    """The objects listed by more than one public module, by their outermost listings."""
    listings: dict[object, list[tuple[str, str]]] = defaultdict(list)
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            key = (name, type(obj), obj) if isinstance(obj, _VALUES) else id(obj)
            listings[key].append((module_name, name))
    return {d for where in listings.values() if (d := outermost(where)) is not None}


def test_each_public_name_is_listed_by_one_package() -> None:
    new = sorted(duplicates() - DUPLICATES_ALLOWED)
    assert not new, "\n" + "\n".join(
        f"{' and '.join(d)} are one object: list it in its owner's __all__ only and import it "
        "from there (re-exports are for the top-level `loopline` namespace)"
        for d in new
    )


def test_the_allowlist_holds_only_what_still_exists() -> None:
    """A duplicate removed leaves DUPLICATES_ALLOWED, so it cannot come back."""
    assert DUPLICATES_ALLOWED - duplicates() == set()


def test_the_rule_spares_a_package_s_own_wings_only() -> None:
    wings = [
        ("loopline.store", "ModelVersion"),
        ("loopline.store.records", "ModelVersion"),
        ("loopline.store.records.registry", "ModelVersion"),
    ]
    assert outermost(wings) is None
    assert outermost([*wings, ("loopline.registry", "ModelVersion")]) == (
        "loopline.registry.ModelVersion",
        "loopline.store.ModelVersion",
    )
    # a sibling package whose name starts the same is not inside: `stats` vs `statsx`
    assert outermost([("loopline.stats", "ks"), ("loopline.statsx", "ks")]) is not None
