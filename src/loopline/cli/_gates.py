"""`loopline models promote|gate|approve`: the gate, its verdict table, and approvals.
Registered on `loopline models` in _models.py.

The alias is a positional after the version, as in `models rollback` and `ll.promote`
(docs/vocabulary.md §7). Last release's `--to ALIAS` works one more release: hidden from the
help, with a one-line notice on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from loopline.cli._deprecated import renamed_option
from loopline.cli._output import Col, console, number, print_json, table

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ModelArg = Annotated[str, typer.Argument(metavar="MODEL", help="Registered model, e.g. churn")]
# promote and gate evaluate the same way: a policy's slice_gap.* rules need the columns.
SliceOpt = Annotated[
    list[str] | None,
    typer.Option("--slice", help="Slice column of --data (repeatable): slice_gap.* metrics"),
]
AliasArg = Annotated[
    str | None,
    typer.Argument(metavar="ALIAS", help="Alias to move (default production)", show_default=False),
]


# Last release's `--to ALIAS`, hidden (docs/vocabulary.md §7).
OldToOpt = Annotated[str | None, typer.Option("--to", hidden=True)]


def _alias(positional: str | None, to: str | None) -> str:
    """The alias after the version, or last release's --to (not two different ones)."""
    return renamed_option("--to", to, "the alias after the version", positional) or "production"


def _decision_table(result: Any) -> None:
    d = result.decision
    table(
        f"gate {d.policy.get('name', '')}: {result.candidate.uri} → @{result.alias}"
        + (f" (champion v{result.champion.version})" if result.champion else " (no champion)"),
        [
            Col("rule", key=True),
            Col("value"),
            Col("threshold"),
            Col("verdict", key=True),
            Col("why", text=True),
        ],
        [
            [
                r.rule,
                "" if r.value is None else number(r.value, 5),
                "" if r.threshold is None else number(r.threshold, 5),
                {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]"}.get(
                    r.verdict, r.verdict
                ),
                r.reason,
            ]
            for r in d.results
        ],
    )


def promote(
    name: ModelArg,
    version: int,
    alias: AliasArg = None,
    policy: Annotated[Path | None, typer.Option(help="Gate policy YAML")] = None,
    data: Annotated[Path | None, typer.Option(help="Hold-out data to evaluate both on")] = None,
    target: Annotated[str | None, typer.Option(help="Label column in --data")] = None,
    slice_: SliceOpt = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log)")] = None,
    as_json: JsonOpt = False,
    to: OldToOpt = None,
) -> None:
    """Run the gate against the alias's holder; move the alias only if it passes (exit 1 if not)."""
    from loopline.gates import promote as run_promotion

    to = _alias(alias, to)
    result = run_promotion(
        name,
        version,
        to,
        policy=policy,
        data=data,
        target=target,
        slices=slice_ or [],
        reason=reason,
    )
    if as_json:
        print_json(
            {
                "promoted": result.promoted,
                "decision_id": result.decision_id,
                "rules": [r.to_dict() for r in result.decision.results],
            }
        )
    else:
        _decision_table(result)
        if result.promoted:
            console.print(f"[green]promoted[/green] {name}/{version} to @{to}")
        else:
            console.print(f"[red]refused[/red]: {result.decision.summary()}; @{to} unchanged")
            if any(r.rule.startswith("approvals") for r in result.decision.failures):
                console.print(
                    f"to fix: an approver runs `loopline models approve {name} {version}`"
                )
    if not result.promoted:
        raise typer.Exit(1)


def gate(
    name: ModelArg,
    version: int,
    alias: Annotated[
        str | None,
        typer.Argument(
            metavar="ALIAS", help="Alias to clear (default production)", show_default=False
        ),
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="Gate policy YAML")] = None,
    data: Annotated[Path | None, typer.Option(help="Hold-out data to evaluate both on")] = None,
    target: Annotated[str | None, typer.Option(help="Label column in --data")] = None,
    slice_: SliceOpt = None,
    as_json: JsonOpt = False,
    to: OldToOpt = None,
) -> None:
    """Run and record the gate without moving the alias: clears a version for a rollout
    (`loopline deployments start`) against a protected alias (exit 1 if it fails)."""
    from loopline.gates import gate as run_gate_only

    to = _alias(alias, to)
    result = run_gate_only(
        name, version, to, policy=policy, data=data, target=target, slices=slice_ or []
    )
    if as_json:
        print_json({"passed": result.decision.passed, "decision_id": result.decision_id})
    else:
        _decision_table(result)
        verdict = "[green]passed[/green]" if result.decision.passed else "[red]failed[/red]"
        console.print(f"gate {verdict} for {name}/{version} @{to} (decision #{result.decision_id})")
    if not result.decision.passed:
        raise typer.Exit(1)


def approve(
    name: ModelArg,
    version: int,
    role: Annotated[str, typer.Option(help="Your role, checked by gate policies")] = "approver",
    comment: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Approve MODEL/VERSION (you cannot approve a version you registered)."""
    from loopline.registry import approve as do_approve

    a = do_approve(name, version, role=role, comment=comment)
    console.print(f"{a.approver} approved {name}/{version} as {a.role}")


__all__ = ["approve", "gate", "promote"]
