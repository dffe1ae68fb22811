"""`loopline deployments start|status|switch|complete|stop|rollback|list`: traffic
policies; `loopline deployments k8s`: Kubernetes manifests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopline.cli._context import store
from loopline.cli._output import Col, console, print_json, table, when

if TYPE_CHECKING:
    from loopline.store import Deployment

app = typer.Typer(help="Roll a version out: canary, shadow, blue-green, A/B.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _show(d: Deployment, as_json: bool, *, wait: bool = False) -> None:
    """One line for the rollout; with `wait`, a canary's step and what it waits for."""
    from loopline.serving import waiting

    pending = waiting(d) if wait else None
    if as_json:
        print_json({**d.as_dict(), "waiting": pending} if wait else d.as_dict())
        return
    live = f", live {d.params['live']}" if "live" in d.params else ""
    console.print(
        f"deployment #{d.id} of {d.model}@{d.alias}: {d.strategy}, {d.status}, "
        f"v{d.champion_version} (champion) vs v{d.challenger_version} (challenger) at "
        f"{d.challenger_percent:g}%{live}" + (f" — {d.reason}" if d.reason else ""),
        highlight=False,
        soft_wrap=True,
    )
    if pending is not None:
        console.print(_waiting_line(pending), highlight=False, soft_wrap=True)


def _waiting_line(w: dict[str, Any]) -> str:
    """`step 1 of 3; waiting: 7 of 20 challenger requests since the step began, 12 s of
    30 s at this step` — what holds the step, or that it advances at the next check."""
    needs = []
    if w["requests"] < w["min_requests"]:
        needs.append(
            f"{w['requests']} of {w['min_requests']} challenger requests since the step began"
        )
    if w["seconds"] < w["step_duration_s"]:
        needs.append(f"{w['seconds']:.0f} s of {w['step_duration_s']:g} s at this step")
    why = f"waiting: {', '.join(needs)}" if needs else "due to advance at the server's next check"
    return f"  step {w['step'] + 1} of {w['steps']}; {why}"


@app.command("start")
def start(
    model: str,
    version: Annotated[int, typer.Argument(help="The challenger version")],
    strategy: Annotated[str, typer.Option(help="canary | shadow | blue_green | ab")] = "canary",
    alias: Annotated[str, typer.Option(help="Alias whose holder is the champion")] = "production",
    steps: Annotated[str, typer.Option(help="Canary percentages")] = "5,25,100",
    step_duration: Annotated[float, typer.Option(help="Seconds healthy per canary step")] = 30.0,
    fraction: Annotated[float, typer.Option(help="Shadow: share of requests copied")] = 1.0,
    split: Annotated[float, typer.Option(help="A/B: share of keys to the challenger")] = 0.5,
    max_error_rate: Annotated[float, typer.Option(help="SLO: roll back above this")] = 0.01,
    max_p95_ms: Annotated[float, typer.Option(help="SLO: roll back above this p95")] = 100.0,
    max_psi: Annotated[float, typer.Option(help="SLO: prediction PSI vs champion")] = 0.2,
    min_requests: Annotated[
        int,
        typer.Option(
            min=1,
            help="Canary: challenger requests a step needs (counted from the step's start) "
            "before it is judged and advances",
        ),
    ] = 20,  # Slo.min_requests (not imported here: `--help` stays light)
    as_json: JsonOpt = False,
) -> None:
    """Start a rollout of VERSION against the alias's holder; servers pick it up in ~1 s."""
    from loopline.errors import InvalidInputError
    from loopline.serving import Slo, deploy

    try:
        percents = [float(s) for s in steps.split(",") if s.strip()]
    except ValueError:
        raise InvalidInputError(
            f"--steps {steps!r} is not a list of numbers", hint="e.g. --steps 5,25,100"
        ) from None
    slo = Slo(
        max_error_rate=max_error_rate,
        max_p95_ms=max_p95_ms,
        max_psi=max_psi,
        min_requests=min_requests,
    )
    d = deploy(
        model,
        version,
        strategy=strategy,
        alias=alias,
        steps=percents,
        step_duration_s=step_duration,
        fraction=fraction,
        split=split,
        slo=slo,
    )
    _show(d, as_json)


@app.command("status")
def status(model: str, as_json: JsonOpt = False) -> None:
    """The active rollout of MODEL, if any."""
    d = store(reap=False).active_deployment(model)
    if d is None:
        if as_json:
            print_json(None)
        else:
            console.print(f"{model} has no active deployment")
        return
    _show(d, as_json, wait=True)


@app.command("switch")
def switch(model: str, as_json: JsonOpt = False) -> None:
    """Blue-green: send all traffic to the other side (again to switch back)."""
    from loopline.serving import switch as do_switch

    _show(do_switch(model), as_json)


@app.command("complete")
def complete(model: str, reason: Annotated[str | None, typer.Option()] = None) -> None:
    """End the rollout by moving the alias to the challenger (it was `promote`: promoting is
    the gate's word, docs/vocabulary.md §9)."""
    from loopline.serving import finish

    _show(finish(model, complete=True, reason=reason), False)


@app.command("stop")
def stop(model: str, reason: Annotated[str | None, typer.Option()] = None) -> None:
    """End the rollout; all traffic returns to the champion."""
    from loopline.serving import finish

    _show(finish(model, complete=False, reason=reason), False)


@app.command("rollback")
def rollback(model: str, reason: Annotated[str | None, typer.Option()] = None) -> None:
    """Roll the rollout back (a failed change): all traffic returns to the champion."""
    from loopline.serving import rollback_deployment

    _show(rollback_deployment(model, reason=reason), False)


@app.command("list")
def list_(
    model: str,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every column, unwrapped, however wide the terminal.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Every rollout of MODEL."""
    rows = store(reap=False).list_deployments(model)
    if as_json:
        print_json([d.as_dict() for d in rows])
        return
    table(
        f"{model} deployments",
        [
            Col("#", key=True, justify="right"),
            Col("strategy", key=True),
            Col("status", key=True),
            Col("champion", key=True),
            Col("challenger", key=True),
            Col("%", key=True, justify="right"),
            Col("started", drop=1),
            Col("reason", text=True, max_width=40),
        ],
        [
            [
                d.id,
                d.strategy,
                d.status,
                f"v{d.champion_version}",
                f"v{d.challenger_version}",
                f"{d.challenger_percent:g}",
                when(d.created_at),
                d.reason or "",
            ]
            for d in rows
        ],
        wide=wide,
    )


@app.command("k8s")
def k8s(
    uri: Annotated[str, typer.Argument(help="models:/name@alias or models:/name/N")],
    emit: Annotated[Path, typer.Option("--emit", help="Folder to write the manifests into")],
    image: Annotated[str, typer.Option(help="Container image with loopline installed")] = (
        "ghcr.io/loopline/loopline:latest"
    ),
    name: Annotated[
        str | None, typer.Option(help="Resource name \\[default: loopline-<model>]")
    ] = None,
    namespace: Annotated[str | None, typer.Option(help="Namespace of the resources")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes per pod")] = 2,
    replicas: Annotated[int, typer.Option(min=1, help="Pods at first")] = 2,
    min_replicas: Annotated[int, typer.Option(min=1, help="HPA lower bound")] = 2,
    max_replicas: Annotated[int, typer.Option(min=1, help="HPA upper bound")] = 10,
    target_cpu: Annotated[int, typer.Option(help="HPA: average CPU utilization %")] = 70,
    target_rps: Annotated[
        float | None, typer.Option(help="HPA: requests/s per pod (needs a metrics adapter)")
    ] = None,
    cpu: Annotated[str, typer.Option(help="CPU request per pod")] = "1",
    memory: Annotated[str, typer.Option(help="Memory request per pod")] = "1Gi",
    secret: Annotated[
        str, typer.Option(help="Secret holding LOOPLINE_DB_URL, LOOPLINE_ARTIFACTS_URI, …")
    ] = "loopline",
) -> None:
    """Write Kubernetes manifests (Deployment, Service, HPA) serving URI."""
    from loopline.serving._k8s import K8sOptions, write_manifests

    options = K8sOptions(
        image=image,
        name=name,
        namespace=namespace,
        workers=workers,
        replicas=replicas,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        target_cpu_percent=target_cpu,
        target_rps=target_rps,
        cpu_request=cpu,
        memory_request=memory,
        secret=secret,
    )
    for path in write_manifests(uri, emit, options):
        console.print(f"wrote {path}", highlight=False)
