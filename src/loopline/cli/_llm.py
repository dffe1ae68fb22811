"""`loopline prompts ...`: prompts (register, show, diff, evaluate, promote, canary) and their
traffic (traces, feedback, check); `loopline indexes ...`: retrieval indexes (build,
evaluate). Both were `loopline llm` (docs/vocabulary.md §4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from loopline.cli._output import Col, console, print_json, table

app = typer.Typer(
    help="LLM prompts: registry, evals, gates, canaries, traces and feedback.",
    no_args_is_help=True,
)
index_app = typer.Typer(help="Retrieval indexes: build, register, evaluate.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_METRIC_VALUE = [Col("metric", key=True), Col("value", key=True)]
BaseUrl = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible /v1 URL (else config).")
]


@app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="Prompt name, e.g. support-reply")],
    template: Annotated[Path, typer.Argument(help="Template file (YAML or JSON)")],
    as_json: JsonOpt = False,
) -> None:
    """Register a prompt template as the next immutable version of NAME."""
    from loopline.llm import register_prompt

    v = register_prompt(name, template)
    if as_json:
        print_json(v.as_dict())
    else:
        console.print(f"registered prompts:/{v.model}/{v.version} (sha256 {v.sha256[:12]})")


@app.command("show")
def show(uri: Annotated[str, typer.Argument(help="prompts:/name@alias or /N")]) -> None:
    """Print a prompt version's template."""
    from loopline.cli._context import store
    from loopline.llm import load_prompt, parse_prompt_uri

    parse_prompt_uri(uri)  # a malformed URI is refused before any store is looked for
    store(reap=False)  # outside a project: says where it looked, creates nothing
    p = load_prompt(uri)
    console.print(f"{p.uri} aliases={','.join(p.aliases) or '-'} sha256={p.sha256[:12]}")
    print(p.template.pretty(), end="")


@app.command("diff")
def diff(a: str, b: str) -> None:
    """Unified diff between two prompt versions."""
    from loopline.cli._context import store
    from loopline.llm import diff_prompts, parse_prompt_uri

    parse_prompt_uri(a)  # both URIs checked before any store is looked for
    parse_prompt_uri(b)
    store(reap=False)  # outside a project: says where it looked, creates nothing
    print(diff_prompts(a, b) or "no difference", end="\n")


def _failures_table(report_failures: list[tuple[str, str]]) -> None:
    table("failing cases", [Col("case", key=True), Col("why", text=True)], report_failures)


@app.command("evaluate")
def evaluate(
    uri: Annotated[str, typer.Argument(help="prompts:/name/N to evaluate")],
    eval_set: Annotated[Path, typer.Option("--set", help="Eval set (JSON Lines)")],
    base_url: BaseUrl = None,
    fail_under: Annotated[
        float | None, typer.Option(help="Exit 1 when pass_rate is below this")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a prompt version on an eval set, as a tracked run stored on the version."""
    from loopline.llm import evaluate_prompt, provider_from_config

    report = evaluate_prompt(uri, eval_set, provider_from_config(base_url))
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(
            f"{report.prompt} on {report.eval_set}: pass_rate {report.metrics['pass_rate']:.3f} "
            f"({len(report.cases) - len(report.failures)}/{len(report.cases)}), "
            f"run {str(report.run_id)[:8]}"
        )
        table(None, _METRIC_VALUE, [[k, f"{v:.6g}"] for k, v in report.metrics.items()])
        if report.failures:
            _failures_table([(c.case_id, c.why) for c in report.failures])
    if fail_under is not None and report.metrics["pass_rate"] < fail_under:
        raise typer.Exit(1)


@app.command("promote")
def promote(
    name: str,
    version: int,
    to: Annotated[str, typer.Option("--to")] = "production",
    policy: Annotated[Path | None, typer.Option(help="Gate policy YAML")] = None,
    eval_set: Annotated[Path | None, typer.Option("--set", help="Evaluate on this first")] = None,
    base_url: BaseUrl = None,
    reason: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Gate a prompt version (on an eval set) and move the alias if it passes; exit 1 if not."""
    from loopline.llm import promote_prompt, provider_from_config

    provider = provider_from_config(base_url) if eval_set is not None else None
    out = promote_prompt(
        name, version, to, policy=policy, eval_set=eval_set, provider=provider, reason=reason
    )
    d = out.result.decision
    if as_json:
        print_json(
            {
                "promoted": out.promoted,
                "rules": [r.to_dict() for r in d.results],
                "failures": [
                    c.to_dict() for c in (out.candidate.failures if out.candidate else [])
                ],
            }
        )
    else:
        table(
            f"gate for {name}/{version} → @{to}",
            [
                Col("rule", key=True),
                Col("value"),
                Col("threshold"),
                Col("verdict", key=True),
                Col("reason", text=True),
            ],
            [[r.rule, r.value, r.threshold, r.verdict, r.reason] for r in d.results],
        )
        if out.candidate is not None and out.candidate.failures:
            _failures_table([(c.case_id, c.why) for c in out.candidate.failures])
        console.print(f"promoted: {name}@{to} → v{version}" if out.promoted else d.summary())
    if not out.promoted:
        raise typer.Exit(1)


@app.command("canary")
def canary(
    name: str,
    version: int,
    steps: Annotated[str, typer.Option(help="Percentages, e.g. 5,25,100")] = "5,25,100",
    step_duration: Annotated[
        float, typer.Option("--step-duration", help="Seconds healthy per canary step")
    ] = 30.0,
    alias: Annotated[str, typer.Option()] = "production",
) -> None:
    """Canary a prompt version through the same rollout records as models."""
    from loopline.serving import deploy

    try:
        clean = [float(s) for s in steps.split(",")]
    except ValueError:
        raise typer.BadParameter("--steps must be numbers like 5,25,100") from None
    d = deploy(name, version, strategy="canary", alias=alias, steps=clean,
               step_duration_s=step_duration)  # fmt: skip
    console.print(f"canary #{d.id}: prompts:/{name}/{version} at {d.challenger_percent:g}%")


@app.command("traces")
def traces(
    prompt: str,
    since_s: Annotated[float, typer.Option("--since-s", help="Window in seconds")] = 3600.0,
    as_json: JsonOpt = False,
) -> None:
    """Summary of a prompt's traced requests: cost, latency, feedback."""
    import time

    from loopline.llm import TraceLog, summarize

    metrics = summarize(TraceLog().read(prompt, since=time.time() - since_s))
    if as_json:
        print_json(metrics)
    else:
        table(f"{prompt}, last {since_s:g}s", _METRIC_VALUE,
              [[k, f"{v:.6g}"] for k, v in metrics.items()])  # fmt: skip


@app.command("feedback")
def feedback(
    request_id: str,
    thumbs: Annotated[str | None, typer.Option(help="up or down")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
    comment: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record a user's verdict on a traced request."""
    from loopline.llm import TraceLog

    TraceLog().feedback(request_id, thumbs=thumbs, tags=tag or [], comment=comment)
    console.print(f"feedback recorded for {request_id}")


@app.command("check")
def check(
    prompt: str,
    max_cost_per_request: Annotated[float | None, typer.Option()] = None,
    max_p95_ms: Annotated[float | None, typer.Option()] = None,
    max_error_rate: Annotated[float | None, typer.Option()] = None,
    min_thumbs_up: Annotated[float | None, typer.Option()] = None,
    min_requests: Annotated[int, typer.Option()] = 20,
    window_s: Annotated[float, typer.Option("--window-s", help="Window in seconds")] = 3600.0,
) -> None:
    """Check a prompt's traffic against bounds; raise or resolve alerts (exit 1 if any open)."""
    from loopline.llm import TraceSlo, check_traces

    slo = TraceSlo(max_cost_per_request, max_p95_ms, max_error_rate, min_thumbs_up, min_requests)
    out = check_traces(prompt, slo, window_s=window_s)
    breached = [f for f in out.findings if f.severity is not None]
    for f in out.findings:
        console.print(f"{'ALERT' if f.severity else 'ok'} {f.rule}: {f.message}")
    if not out.findings:
        console.print(f"{out.metrics.get('requests', 0):g} requests: too few to judge")
    if breached:
        raise typer.Exit(1)


@index_app.command("build")
def index_build(
    name: str,
    corpus: Annotated[Path, typer.Option(help='JSONL: {"id": ..., "text": ...} per line')],
) -> None:
    """Embed a corpus with all-MiniLM-L6-v2 and register it as the next index version."""
    from loopline.llm import Embedder, build_index, register_index

    docs: dict[str, str] = {}
    for n, line in enumerate(corpus.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
                docs[str(row["id"])] = str(row["text"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise typer.BadParameter(f"{corpus}:{n} is not {{id, text}} JSON") from None
    v = register_index(name, build_index(docs, Embedder()))
    console.print(f"registered indexes:/{v.model}/{v.version} ({len(docs)} documents)")


@index_app.command("evaluate")
def index_evaluate(
    uri: str,
    queries: Annotated[Path, typer.Option(help='JSONL: {"query": ..., "relevant": [...]}')],
    as_json: JsonOpt = False,
) -> None:
    """Hit rate@k, MRR and nDCG@k of an index version, stored on it for the gate."""
    from loopline.llm import Embedder, evaluate_index_version
    from loopline.llm._retrieval import load_queries

    metrics, _ = evaluate_index_version(uri, load_queries(queries), Embedder())
    if as_json:
        print_json(metrics)
    else:
        table(uri, _METRIC_VALUE, [[k, f"{v:.4f}"] for k, v in metrics.items()])


__all__ = ["app", "index_app"]
