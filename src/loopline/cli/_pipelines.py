"""`loopline pipelines run|schedule|diagram|ci`: pipelines from loopline.yaml (they were
`loopline run`, `scheduler`, `diagram` and `ci init`; docs/vocabulary.md §1)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from loopline.cli._ci import PipelineArg, ci
from loopline.cli._output import print_json
from loopline.errors import InvalidInputError

if TYPE_CHECKING:
    from loopline.pipelines import PipelineResult, PipelineSpec, StepEvent

app = typer.Typer(
    help="Pipelines from loopline.yaml: run, schedule, diagram, CI workflow.",
    no_args_is_help=True,
)
ICONS = {
    "ok": "[green]✓[/green]",
    "cached": "[cyan]↺[/cyan]",
    "loaded": "[cyan]↺[/cyan]",
    "failed": "[red]✗[/red]",
    "skipped": "[yellow]-[/yellow]",
    "promoted": "[green]▲[/green]",
    "deploying": "[green]▲[/green]",
    "rejected": "[red]■[/red]",
    "unchanged": "[cyan]=[/cyan]",
    "retry": "[yellow]⟳[/yellow]",
}


def parse_params(spec: PipelineSpec, items: list[str]) -> dict[str, Any]:
    """`k=v` pairs, each value converted to the type of the param's declared default."""
    from loopline.pipelines._yaml import Loader

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--param {item!r} is not key=value", hint="e.g. --param C=0.5")
        default = spec.params.get(key)
        if isinstance(default, str):
            out[key] = raw  # a text param stays text: --param feed=007 is not the number 7
            continue
        loader = Loader(raw)  # YAML 1.2 scalars: 3, 0.5, true, [1, 2]
        try:
            value = loader.get_single_data() if raw else None
        except Exception:
            value = raw
        finally:
            loader.dispose()
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        if (isinstance(default, bool) and not isinstance(value, bool)) or (
            numeric and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            kind = "true or false" if isinstance(default, bool) else "a number"
            raise InvalidInputError(
                f"--param {key}={raw!r}: expected {kind}",
                hint=f"the pipeline declares {key}: {default!r}",
            )
        if isinstance(default, float) and isinstance(value, int):
            value = float(value)  # C=1 and C=1.0 are the same param (and cache key)
        out[key] = value
    return out


def run(
    pipeline: PipelineArg = None,
    from_step: Annotated[
        str | None, typer.Option("--from", help="Start at STEP; steps before it come from cache")
    ] = None,
    to: Annotated[
        list[str] | None, typer.Option("--to", help="Run only STEP and what it needs (repeatable)")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Override a param: k=v (repeatable)")
    ] = None,
    trigger: Annotated[str, typer.Option(help="Why it runs: manual, ci, schedule, …")] = "manual",
    reason: Annotated[str | None, typer.Option(help="Recorded as trigger.reason")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    sweep: Annotated[
        Path | None,
        typer.Option(
            "--sweep",
            help="Run one trial per param set of this YAML (grid: and/or trials:), "
            "each a tracked run, in parallel",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            envvar="LOOPLINE_ENGINE",
            help="Where sweep trials run: local (processes) or ray",
        ),
    ] = None,
    parallel: Annotated[
        int | None, typer.Option("--parallel", min=1, help="Sweep trials at a time")
    ] = None,
) -> None:
    """Run a pipeline: unchanged steps come from cache; exits 1 if a step failed or a gate
    refused the candidate. With --sweep, run it once per param set, in parallel."""
    from loopline.pipelines import load_pipeline

    spec = load_pipeline(pipeline)
    params = parse_params(spec, param or [])
    if sweep is not None:
        if from_step is not None or to:
            raise InvalidInputError(
                "--sweep runs whole pipelines; it does not combine with --from or --to",
                hint="drop --from/--to, or run one trial with --param",
            )
        _run_sweep(spec, sweep, params, engine, parallel, trigger, reason, as_json)
        return
    # Bound to the stream as it is now: steps' own prints are redirected into their logs.
    out = Console(file=sys.stdout, stderr=False)
    result, seconds = _run_with_progress(
        out, spec, params, from_step, to or [], trigger, reason, as_json
    )
    if as_json:
        print_json(result.as_dict())
    else:
        color = "green" if result.ok else "red"
        out.print(
            f"run {result.run_id[:8]} [{color}]{result.status}[/{color}] in {seconds:.1f}s; "
            f"promotion [bold]{result.promotion}[/bold]"
            + (f": {escape(result.promotion_reason)}" if result.promotion_reason else ""),
            highlight=False,
        )
        out.print(f"  details: loopline runs show {result.run_id[:8]}", highlight=False)
    if not result.ok or result.promotion == "rejected":
        raise typer.Exit(1)


def _run_with_progress(
    out: Console,
    spec: PipelineSpec,
    params: dict[str, Any],
    from_step: str | None,
    to: list[str],
    trigger: str,
    reason: str | None,
    as_json: bool,
) -> tuple[PipelineResult, float]:
    """The pipeline run under a progress bar on `out`, each step's outcome printed as it
    ends (not with --json); the result and the seconds it took."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from loopline.pipelines import run_pipeline

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=out,
        transient=True,
        disable=as_json,
    )
    task = progress.add_task(f"pipeline {spec.name}", total=len(spec.steps))

    def show(e: StepEvent) -> None:
        if e.status == "start":
            progress.update(task, description=f"{e.step} ({e.message})…", total=e.total)
            return
        if e.status != "retry":
            progress.update(task, completed=e.index)
        if not as_json:
            took = f" [dim]{e.seconds:.1f}s[/dim]" if e.seconds >= 0.05 else ""
            msg = f" — {escape(e.message)}" if e.message else ""
            icon = ICONS.get(e.status, "•")
            progress.console.print(
                f"{icon} {e.step} [bold]{e.status}[/bold]{took}{msg}", highlight=False
            )

    t0 = time.perf_counter()
    with progress:
        result = run_pipeline(
            spec,
            params=params,
            from_step=from_step,
            to_steps=tuple(to),
            trigger=trigger,
            reason=reason,
            on_event=show,
        )
    return result, time.perf_counter() - t0


def _run_sweep(
    spec: PipelineSpec,
    path: Path,
    base: dict[str, Any],
    engine: str | None,
    parallel: int | None,
    trigger: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """`loopline pipelines run --sweep`: --param values apply to every trial (a trial's own win)."""
    from dataclasses import replace

    from loopline.pipelines._sweep import TrialResult, load_sweep, run_sweep

    sweep = load_sweep(path)
    sweep = replace(sweep, trials=tuple({**base, **t} for t in sweep.trials))
    out = Console(file=sys.stdout, stderr=False)
    if not as_json:
        out.print(f"sweep of {spec.name}: {len(sweep.trials)} trials", highlight=False)

    def show(t: TrialResult) -> None:
        if as_json:
            return
        shown = ", ".join(f"{k}={v!r}" for k, v in t.params.items())
        icon = ICONS["ok"] if t.status == "finished" else ICONS["failed"]
        run = f"run {t.run_id[:8]}" if t.run_id else "no run"
        why = f" — {escape(t.error)}" if t.error else ""
        out.print(
            f"{icon} trial {t.index} [bold]{t.status}[/bold] {run} [dim]{t.seconds:.1f}s[/dim]"
            f" {escape(shown)}{why}",
            highlight=False,
        )

    result = run_sweep(
        spec,
        sweep,
        engine=engine,
        parallel=parallel,
        trigger=trigger,
        reason=reason,
        on_trial=show,
    )
    if as_json:
        print_json(result.as_dict())
    else:
        good = sum(t.status == "finished" for t in result.trials)
        out.print(
            f"sweep {result.sweep_id}: {good}/{len(result.trials)} trials finished in "
            f"{result.seconds:.1f}s on {result.engine} ({result.parallel} at a time); "
            f"list them: loopline runs list --tag sweep={result.sweep_id}",
            highlight=False,
        )
    if not result.ok:
        raise typer.Exit(1)


def scheduler(
    pipelines: Annotated[
        list[str] | None, typer.Argument(help="Pipeline files or folders \\[default: .]")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Check once and exit")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between checks (at most 60)")] = 30.0,
    max_ticks: Annotated[int | None, typer.Option(help="Stop after this many checks")] = None,
) -> None:
    """Run pipelines when their schedule, a drift/performance retrain request or a new
    dataset version says so. In-process; stop it with Ctrl-C."""
    from loopline.pipelines import load_pipeline, run_scheduler

    specs = [load_pipeline(p) for p in (pipelines or ["."])]
    console = Console(file=sys.stdout)

    def say(message: str) -> None:
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {escape(message)}", highlight=False)

    names = ", ".join(s.name for s in specs)
    say(f"watching {names}" + ("" if once else f" every {min(max(interval, 1), 60):g}s"))
    try:
        results = run_scheduler(
            specs, once=once, interval_s=interval, max_ticks=max_ticks, on_message=say
        )
    except KeyboardInterrupt:
        say("stopped")
        return
    if once and not results:
        say("nothing due")


def diagram(
    pipeline: PipelineArg = None,
    fmt: Annotated[str, typer.Option("--format", help="mermaid | dot | svg | png")] = "mermaid",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file")
    ] = None,
) -> None:
    """Draw the pipeline and its deployment flow from the spec the runner uses."""
    from loopline.pipelines import load_pipeline, render_diagram

    spec = load_pipeline(pipeline)
    drawn = render_diagram(spec, fmt)
    if output is None and fmt in ("mermaid", "dot"):
        sys.stdout.write(str(drawn))
        return
    path = output or Path(f"{spec.name}-pipeline.{fmt}")
    if isinstance(drawn, bytes):
        path.write_bytes(drawn)
    else:
        path.write_text(drawn)
    print(f"wrote {path}")


app.command("run")(run)
app.command("schedule")(scheduler)
app.command("diagram")(diagram)
app.command("ci")(ci)

__all__ = ["app", "diagram", "parse_params", "run", "scheduler"]
