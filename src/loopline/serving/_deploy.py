"""Starting, switching and stopping rollouts: the library behind `loopline deployments`."""

from __future__ import annotations

from collections.abc import Sequence

from loopline._renamed import renamed_keywords
from loopline.config import current_user
from loopline.errors import ConflictError, InvalidInputError, PermissionDeniedError
from loopline.gates import as_decision, run_gate
from loopline.registry import verify_version
from loopline.serving._health import Slo
from loopline.store import STRATEGIES, Deployment, MetadataStore, open_metadata_store


def deploy(
    model: str,
    challenger: int,
    *,
    strategy: str = "canary",
    alias: str = "production",
    steps: Sequence[float] = (5, 25, 100),
    step_duration_s: float = 30.0,
    fraction: float = 1.0,
    split: float = 0.5,
    slo: Slo | None = None,
    gated: bool = False,
) -> Deployment:
    """Roll `challenger` out against the holder of `alias` under a traffic strategy.

    A protected alias's gate runs first (the store refuses the rollout without a passing,
    fresh decision); `gated=True` says the caller has just run it (a pipeline's promote
    step, with its own hold-out data) — the store still checks that decision."""
    if strategy not in STRATEGIES:
        raise InvalidInputError(
            f"unknown strategy {strategy!r}", hint=f"use one of {', '.join(STRATEGIES)}"
        )
    store = open_metadata_store()
    champion = store.get_version_by_alias(model, alias)
    if champion.version == challenger:
        raise ConflictError(
            f"version {challenger} already holds @{alias}", hint="deploy a different version"
        )
    # Refuse a corrupted challenger up front, without deserializing it here.
    verify_version(store.get_version(model, challenger))
    if not gated and strategy != "shadow" and store.get_alias_policy(model, alias).protected:
        _check_gate(store, model, challenger, alias)
    clean = [float(s) for s in steps]
    if strategy == "canary" and (
        not clean or clean != sorted(clean) or clean[-1] != 100 or clean[0] <= 0
    ):
        raise InvalidInputError(
            f"canary steps {clean} must rise from above 0 to 100", hint="e.g. --steps 5,25,100"
        )
    if not 0 < fraction <= 1 or not 0 < split < 1:
        raise InvalidInputError(
            "--fraction must be in (0, 1] and --split in (0, 1)",
            hint="e.g. --fraction 0.1 or --split 0.5",
        )
    params: dict[str, object] = {"slo": (slo or Slo()).get_params()}
    percent = 0.0
    if strategy == "canary":
        params |= {"steps": clean, "step_duration_s": step_duration_s}
        percent = clean[0]
    elif strategy == "shadow":
        params["fraction"] = fraction
    elif strategy == "ab":
        params["split"] = split
        percent = split * 100
    else:
        params["live"] = "blue"
    return store.create_deployment(
        model,
        alias=alias,
        strategy=strategy,
        champion_version=champion.version,
        challenger_version=challenger,
        params=params,
        challenger_percent=percent,
        actor=current_user(),
    )


def _active(model: str) -> Deployment:
    d = open_metadata_store().active_deployment(model)
    if d is None:
        raise ConflictError(
            f"model {model!r} has no active deployment",
            hint=f"start one with: loopline deployments start {model} VERSION",
        )
    return d


def switch(model: str) -> Deployment:
    """Blue-green: flip live traffic to the other side (run again to switch back)."""
    d = _active(model)
    if d.strategy != "blue_green":
        raise ConflictError(
            f"deployment #{d.id} is {d.strategy}, not blue_green",
            hint="switch applies to blue-green deployments",
        )
    live = "green" if d.params.get("live") == "blue" else "blue"
    out = open_metadata_store().update_deployment(
        d.id,
        expected_step=d.step,
        actor=current_user(),
        action="deploy.switch",
        params={**d.params, "live": live},
        step=d.step + 1,
        challenger_percent=100.0 if live == "green" else 0.0,
    )
    if out is None:
        raise ConflictError("the deployment changed meanwhile", hint="run the command again")
    return out


# `promote=` was last release's keyword: *promote* means "gate, then move an alias", and
# ending a rollout is `loopline deployments complete|stop` (docs/vocabulary.md §9). It works
# for one more release.
@renamed_keywords(promote="complete")
def finish(model: str, *, complete: bool, reason: str | None = None) -> Deployment:
    """End the active rollout: `complete=True` moves the alias to the challenger (completed),
    `complete=False` stops it with the champion serving everything (stopped)."""
    d = _active(model)
    out = open_metadata_store().update_deployment(
        d.id,
        expected_step=d.step,
        actor=current_user(),
        action="deploy.complete" if complete else "deploy.stop",
        status="completed" if complete else "stopped",
        challenger_percent=100.0 if complete else 0.0,
        reason=reason,
        promote_alias=complete,
    )
    if out is None:
        raise ConflictError("the deployment changed meanwhile", hint="run the command again")
    return out


def rollback_deployment(
    model: str, *, reason: str | None = None, expected: Deployment | None = None
) -> Deployment:
    """Roll the active rollout back: all traffic returns to the champion and the rollout
    ends as `rolled_back` (audited as deploy.rollback, which DORA counts as a failed
    change — unlike `finish(complete=False)`, a planned stop). The one function behind
    `loopline deployments rollback`, the web UI's button and the canary controller.

    `expected` is the record the decision was made on (the controller's judged step):
    the rollback lands only if that rollout is still active at that step, so of several
    replicas deciding at once one write lands and the others get a `ConflictError`."""
    if expected is not None and expected.model != model:
        raise InvalidInputError(
            f"deployment #{expected.id} is of {expected.model!r}, not {model!r}",
            hint="pass the deployment of the model being rolled back",
        )
    d = expected or _active(model)
    out = open_metadata_store().update_deployment(
        d.id,
        expected_step=d.step,
        actor=current_user(),
        action="deploy.rollback",
        status="rolled_back",
        challenger_percent=0.0,
        reason=reason,
    )
    if out is None:
        raise ConflictError("the deployment changed meanwhile", hint="run the command again")
    return out


def _check_gate(store: MetadataStore, model: str, challenger: int, alias: str) -> None:
    # The challenger will answer the protected alias's traffic. A caller who may decide
    # that alias's gate runs it here; otherwise (an ml-engineer) the approver's recorded
    # decision must already clear it: the store checks either when the rollout starts.
    try:
        decision = run_gate(store, model, challenger, alias)
    except PermissionDeniedError:
        decision = None
    if decision is not None and not decision.passed:
        raise ConflictError(
            f"{model}/{challenger} may not serve @{alias} traffic: "
            + as_decision(decision).summary(),
            hint=f"see `loopline models show {model}`; fix the model or its evidence",
        )


__all__ = ["deploy", "finish", "rollback_deployment", "switch"]
