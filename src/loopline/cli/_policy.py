"""`loopline models policy ...`: the gate policy a protected alias is held to."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._context import store
from loopline.cli._output import console, print_json, when

app = typer.Typer(
    help="Gate policies registered per model and alias (a registered alias is protected).",
    no_args_is_help=True,
)


@app.command("set")
def set_policy(
    name: Annotated[str, typer.Argument(metavar="MODEL", help="Registered model, e.g. churn")],
    alias: Annotated[str, typer.Argument(help="Alias to protect, e.g. production")],
    policy: Annotated[Path, typer.Argument(help="Gate policy YAML file")],
) -> None:
    """Register POLICY as the gate of MODEL@ALIAS (approver or admin; audited)."""
    from loopline.config import current_user
    from loopline.gates import GatePolicy

    parsed = GatePolicy.from_yaml(policy)
    record = store(reap=False).set_alias_policy(
        name, alias, policy=parsed.to_dict(), actor=current_user()
    )
    console.print(f"{name}@{alias} is gated by {policy} (revision {record.revision})")


@app.command("show")
def show_policy(
    name: Annotated[str, typer.Argument(metavar="MODEL", help="Registered model, e.g. churn")],
    alias: Annotated[str, typer.Argument(help="Alias, e.g. production")] = "production",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The policy in force for MODEL@ALIAS, and whether the alias is protected."""
    p = store(reap=False).get_alias_policy(name, alias)
    if as_json:
        print_json(p.__dict__)
        return
    state = "protected" if p.protected else "not protected"
    origin = (
        f"revision {p.revision}, set by {p.set_by} {when(p.set_at or 0)}"
        if p.revision
        else "built-in default"
    )
    console.print(f"{name}@{alias}: {state} ({origin})")
    for rule in p.policy.get("rules", []):
        console.print(f"  rule: {rule}")
    count = p.policy.get("approvals_count", 0)
    if count:
        console.print(f"  approvals: {count} ({p.policy.get('approvals_role') or 'any role'})")
    if p.policy.get("require_validation"):
        console.print("  data validation must have passed")
    if p.protected and not p.policy.get("allow_unsafe_pickle"):
        console.print("  pickled models are refused")


__all__ = ["app"]
