"""`loopline models ...`: register, list, show, promote, gate, approve, rollback, history,
evaluate, evaluations, lineage, card, owner, policy, serve (the gate's commands are in
_gates.py, `rollback` in _rollback.py, `serve` in _serve.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopline.cli import _policy
from loopline.cli._context import store
from loopline.cli._gates import approve, gate, promote
from loopline.cli._output import Col, console, err_console, number, print_json, table, when
from loopline.cli._rollback import rollback
from loopline.cli._serve import serve
from loopline.errors import InvalidInputError

if TYPE_CHECKING:
    from loopline.store import MetadataStore, ModelVersion

app = typer.Typer(
    help="The model registry: versions, aliases, gates, rollback; serve a model over HTTP.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
# The model a command acts on is MODEL on every surface (docs/vocabulary.md §6).
ModelArg = Annotated[str, typer.Argument(metavar="MODEL", help="Registered model, e.g. churn")]
WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column, unwrapped, however wide the terminal.")
]
app.add_typer(_policy.app, name="policy")


@app.command("register")
def register(
    source: Annotated[str, typer.Argument(help="runs:/<run_id>/<name> of a logged model")],
    name: ModelArg,
    as_json: JsonOpt = False,
) -> None:
    """Register a run's model as the next immutable version of MODEL."""
    from loopline.registry import register_model

    v = register_model(source, name)
    if as_json:
        print_json(v.as_dict())
    else:
        console.print(f"registered {v.uri} (sha256 {v.sha256[:12]}, from run {v.run_id[:8]})")


@app.command("list")
def list_models(as_json: JsonOpt = False) -> None:
    """Every registered model with its latest version and aliases."""
    models = store(reap=False).list_models()
    if as_json:
        print_json([m.__dict__ for m in models])
        return
    table(
        None,
        [Col("model", key=True), Col("latest", key=True), Col("aliases", text=True)],
        [
            [m.name, m.latest_version, ", ".join(f"{a}→v{v}" for a, v in sorted(m.aliases.items()))]
            for m in models
        ],
    )


@app.command("show")
def show(
    name: ModelArg,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, max=1000, help="How many versions (default 50)."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every version.")] = False,
    before: Annotated[
        int | None,
        typer.Option("--before", min=1, help="Versions older than this one (the next page)."),
    ] = None,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The newest versions of MODEL with their metrics, aliases and latest gate decision."""
    if show_all and limit is not None:
        raise InvalidInputError(
            "--all and --limit ask for different pages", hint="pass one of them"
        )
    meta = store(reap=False)
    # One page: the store reads its aliases and gate decisions in one query each, so the
    # cost follows the page, not the model's history. No --limit: the store's default page.
    page: dict[str, int | None] = {"limit": None} if show_all else {}
    if limit is not None:
        page["limit"] = limit
    versions = meta.list_versions(name, **page, before=before)
    more = bool(versions) and versions[-1].version > 1  # versions count up from 1
    if as_json:
        print_json([v.as_dict() for v in versions])
        if more:  # stdout stays one JSON document
            err_console.print(_cut_note(meta, name, versions), highlight=False)
        return
    keys = sorted({k for v in versions for k in v.metrics})
    unsafe = any(v.card.get("unsafe_pickle") for v in versions)  # the column only if needed
    rows = [
        [
            f"v{v.version}",
            ", ".join(v.aliases),
            v.run_id[:8],
            v.gate or "",
            *(["pickle (unsafe)" if v.card.get("unsafe_pickle") else ""] if unsafe else []),
            v.created_by,
            when(v.created_at, short=True),
            *(number(v.metrics[k], 4) if k in v.metrics else "" for k in keys),
        ]
        for v in versions
    ]
    head = [
        Col("version", key=True),
        Col("aliases", text=True, max_width=40),
        Col("run", key=True),
        Col("gate"),
        *([Col("warning")] if unsafe else []),
        Col("by", drop=5),
        Col("registered", drop=6),
        *(Col(k, drop=4) for k in keys),
    ]
    table(name, head, rows, wide=wide)
    if more:
        console.print(_cut_note(meta, name, versions), highlight=False)


def _cut_note(meta: MetadataStore, name: str, versions: list[ModelVersion]) -> str:
    """How many versions the page holds of how many, and how to see the others."""
    # Versions count up from 1 and are never deleted: the latest number is the count.
    total = meta.get_model(name).latest_version or 0
    older = versions[-1].version
    return (
        f"showing {len(versions):,} of {total:,} versions; --all shows every one, "
        f"--before {older} the next {len(versions):,}"
    )


app.command("promote")(promote)  # in _gates.py, with `gate` and `approve`
app.command("gate")(gate)
app.command("approve")(approve)
app.command("rollback")(rollback)  # in _rollback.py: the alias and version spellings


@app.command("history")
def history(
    name: ModelArg,
    alias: Annotated[str | None, typer.Option("--alias")] = None,
    wide: WideOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Every alias move of MODEL: who, when, from which version to which, and why."""
    moves = store(reap=False).alias_history(name, alias)
    if as_json:
        print_json([m.__dict__ for m in moves])
        return
    table(
        f"{name} alias history",
        [
            Col("when"),
            Col("alias", key=True),
            Col("action", drop=1),
            Col("from", key=True),
            Col("to", key=True),
            Col("by", drop=2),
            Col("reason", text=True, max_width=72),
        ],
        [
            [
                when(m.at, short=not wide),
                m.alias,
                m.action,
                "" if m.from_version is None else f"v{m.from_version}",
                f"v{m.to_version}",
                m.actor,
                m.reason or "",
            ]
            for m in moves
        ],
        wide=wide,
    )


@app.command("evaluate")
def evaluate(
    uri: Annotated[str, typer.Argument(help="models:/name/N or models:/name@alias")],
    data: Annotated[Path, typer.Option(help="Hold-out data (.parquet or .csv)")],
    target: Annotated[str, typer.Option(help="Label column")],
    slice_: Annotated[list[str] | None, typer.Option("--slice", help="Slice column")] = None,
    against: Annotated[str | None, typer.Option(help="Another model URI to compare")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Task metrics, per-slice metrics and latency; stored on the version."""
    from loopline.registry import evaluate as do_evaluate

    results = [
        do_evaluate(u, data, target, slices=slice_ or []) for u in [uri, *filter(None, [against])]
    ]
    if as_json:
        print_json(
            [
                {"uri": e.version.uri, "metrics": e.metrics, "slices": e.record.slices}
                for e in results
            ]
        )
        return
    keys = sorted({k for e in results for k in e.metrics})
    table(
        f"evaluation on {data}",
        [Col("metric", key=True), *(Col(e.version.uri, key=True) for e in results)],
        [[k, *(number(e.metrics[k], 5) if k in e.metrics else "" for e in results)] for k in keys],
    )


@app.command("evaluations")
def evaluations(
    name: ModelArg, version: int, wide: WideOpt = False, as_json: JsonOpt = False
) -> None:
    """Every evaluation of MODEL/VERSION with who recorded it; only trusted ones (the ci
    role, admin, the embedded owner) count as evidence for a protected alias."""
    from loopline.identity import TRUSTED_EVALUATOR_ROLES

    evals = store(reap=False).list_evaluations(name, version)
    if as_json:
        print_json([e.__dict__ for e in evals])
        return
    keys = sorted({k for e in evals for k in e.metrics if not k.startswith("latency")})
    rows = [
        [
            str(e.id),
            when(e.at, short=True),
            f"{e.recorded_by or '?'} ({e.recorder_role or 'unknown'})",
            "yes" if e.recorder_role in TRUSTED_EVALUATOR_ROLES else "no",
            e.dataset_fingerprint[:12],
            *(number(e.metrics[k], 4) if k in e.metrics else "" for k in keys),
        ]
        for e in evals
    ]
    head = [
        Col("id", key=True),
        Col("at", drop=3),
        Col("by", text=True, max_width=32),
        Col("trusted", key=True),
        Col("data", drop=2),
        *(Col(k, drop=1) for k in keys),
    ]
    table(f"evaluations of {name}/{version}", head, rows, wide=wide)


@app.command("lineage")
def lineage(uri: str, as_json: JsonOpt = False) -> None:
    """Which data, code and approvals made the version URI points at."""
    from loopline.cli._context import store
    from loopline.registry import lineage as get_lineage

    store(reap=False)  # outside a project: says where it looked, creates nothing
    info = get_lineage(uri)
    if as_json:
        print_json(info)
        return
    code = info["code"]
    console.print(
        f"[bold]{info['uri']}[/bold]  aliases: {', '.join(info['aliases']) or '-'}  "
        f"sha256 {info['sha256'][:12]}  registered by {info['registered_by']}"
    )
    console.print(
        f"  ← run {info['run']['id'][:8]} ({info['run']['experiment']}) by {info['run']['user']}"
    )
    dirty = " + uncommitted changes" if code["dirty"] else ""
    console.print(f"  ← code {code['commit'] or '(no git commit)'}{dirty} {code['remote'] or ''}")
    for d in info["datasets"]:
        console.print(
            f"  ← data {d['name']} ({d['role']}): {d['fingerprint'][:16]}, "
            f"{d['rows']} rows, source {d['source'] or '-'}"
        )
    for a in info["approvals"]:
        console.print(f"  ✓ approved by {a['approver']} ({a['role']}) {when(a['at'])}")
    for m in info["alias_history"]:
        console.print(
            f"  ⇄ {m['action']} @{m['alias']} "
            f"{'(none)' if m['from'] is None else 'v' + str(m['from'])} → v{m['to']} "
            f"by {m['actor']} "
            f"{when(m['at'])}"
        )


@app.command("card")
def card(
    name: ModelArg,
    version: int,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="JSON file with card fields")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the model card of MODEL/VERSION, or update fields from a JSON file."""
    meta = store(reap=False)
    v = meta.get_version(name, version)
    if set_file is not None:
        try:
            fields = json.loads(set_file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInputError(
                f"cannot read card fields from {set_file}: {exc}", hint="pass a JSON object file"
            ) from None
        if not isinstance(fields, dict):
            raise InvalidInputError(
                f"{set_file} must hold a JSON object", hint='{"intended_use": ...}'
            )
        from loopline.config import current_user

        v = meta.update_card(name, version, {**v.card, **fields}, current_user())
    registered = meta.get_model(name)
    owner = {"owner_team": registered.team, "oncall": registered.oncall}
    if as_json:
        print_json({**v.card, **owner})
        return
    table(
        f"model card {v.uri}",
        [Col("field", key=True), Col("value", text=True)],
        [[k, json.dumps(val) if not isinstance(val, str) else val] for k, val in v.card.items()]
        + [[k, val or "—"] for k, val in owner.items()],
    )


@app.command("owner")
def owner(
    name: ModelArg,
    team: Annotated[str | None, typer.Option(help="The team that owns the model")] = None,
    oncall: Annotated[str | None, typer.Option(help="Who to page: handle, rota, e-mail")] = None,
) -> None:
    """Record who answers for MODEL: shown on its model card and in its alerts."""
    from loopline.config import current_user

    m = store(reap=False).set_model_owner(name, team=team, oncall=oncall, actor=current_user())
    console.print(f"{m.name}: team {m.team or '—'}, on-call {m.oncall or '—'}")


app.command("serve")(serve)  # it was `loopline serve` (docs/vocabulary.md §2)
