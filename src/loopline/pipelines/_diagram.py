"""Workflow diagrams drawn from the same spec the runner executes, so the picture cannot
drift from what runs: stages as boxes, gates and approvals as diamonds, environments
coloured, triggers on arrows, rollback paths in red. Mermaid text needs nothing; SVG and PNG
are laid out by Graphviz `dot`."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from loopline._cron import describe_cron
from loopline.errors import ConfigError, InvalidInputError
from loopline.pipelines._spec import PipelineSpec

DIAGRAM_FORMATS = ("mermaid", "dot", "svg", "png")
RED = "#dc2626"
_PALETTE = {"dev": "#dbeafe", "staging": "#fef3c7", "production": "#dcfce7"}
_EXTRA = ("#ede9fe", "#fce7f3", "#e0f2fe", "#f3f4f6")


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    shape: str  # step | gate | approval | env | trigger | start | end
    color: str | None = None


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    label: str = ""
    style: str = "flow"  # flow | trigger | reject | rollback | feedback


@dataclass(frozen=True)
class Diagram:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def _id(kind: str, name: str) -> str:
    """A node id safe in Mermaid and DOT (a step named `end` would end a Mermaid block)."""
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def _env_color(spec: PipelineSpec, name: str) -> str:
    env = spec.environments[name]
    if env.color:
        return env.color
    others = [n for n in spec.environments if n not in _PALETTE]
    return _PALETTE.get(name) or _EXTRA[others.index(name) % len(_EXTRA)]


def diagram_graph(spec: PipelineSpec) -> Diagram:
    """Nodes and edges of the pipeline and its deployment flow."""
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    start = "pipeline"
    nodes[start] = Node(start, f"pipeline {spec.name}", "start")
    triggers = [("t_ci", "push / pull request (CI)", "on push")]
    if spec.schedule is not None:
        cron = f"schedule {spec.schedule.cron} ({spec.schedule.timezone})"
        triggers.append(("t_schedule", cron, describe_cron(spec.schedule.cron)))
    for t in spec.triggers:
        label = {"drift": "on drift", "performance": "on performance drop"}.get(t.on, "")
        text = {"drift": "drift alert", "performance": "performance alert"}.get(t.on, "")
        if t.on == "new-data":
            text, label = f"new version of {t.dataset}", "on new data"
        triggers.append((_id("t", f"{t.on}_{t.dataset}" if t.dataset else t.on), text, label))
    for tid, text, label in triggers:
        nodes[tid] = Node(tid, text, "trigger")
        edges.append(Edge(tid, start, label, "trigger"))
    envs_used: list[str] = []
    entry = {
        n: _id("gate", n) if s.uses == "promote" else _id("s", n) for n, s in spec.steps.items()
    }
    # A promote step's result is its environment; so is a register step's with `to:`.
    exit_ = {
        n: _id("env", s.to) if s.to is not None else _id("s", n) for n, s in spec.steps.items()
    }
    for name, step in spec.steps.items():
        if not step.upstream:
            edges.append(Edge(start, entry[name]))
        for up in step.upstream:
            edges.append(Edge(exit_[up], entry[name]))
        if step.uses != "promote":
            what = step.run or f"uses: {step.uses}"
            nodes[entry[name]] = Node(entry[name], f"{name}<br/>{what}", "step")
            if step.uses == "register" and step.to:
                envs_used.append(step.to)
                edges.append(Edge(entry[name], _id("env", step.to), "candidate"))
            continue
        assert step.to is not None
        env, policy = spec.environments[step.to], spec.gate_policy(step.to)
        envs_used.append(step.to)
        rules = len(policy.rules) + int(policy.require_validation)
        nodes[entry[name]] = Node(entry[name], f"gate: {policy.name}<br/>{rules} rules", "gate")
        after_gate = entry[name]
        if env.approval or policy.approvals_count:
            aid = _id("approve", step.to)
            nodes[aid] = Node(aid, f"approval<br/>{policy.approvals_role or 'any'}", "approval")
            edges.append(Edge(after_gate, aid, "pass"))
            after_gate = aid
        rej = _id("rejected", step.to)
        nodes[rej] = Node(rej, "rejected: reasons recorded", "end")
        edges.append(Edge(entry[name], rej, "fail", "reject"))
        passed = "approved" if after_gate != entry[name] else "pass"
        edges.append(Edge(after_gate, _id("env", step.to), passed))
    for env_name in dict.fromkeys(envs_used):
        env = spec.environments[env_name]
        how = "" if env.deploy.strategy == "direct" else "<br/>" + _strategy(spec, env_name)
        eid = _id("env", env_name)
        label = f"{env_name}<br/>@{env.alias_name}{how}"
        nodes[eid] = Node(eid, label, "env", _env_color(spec, env_name))
        if spec.environment_before(env_name) is None and not any(
            s.uses == "promote" and s.to == env_name for s in spec.steps.values()
        ):
            continue  # the first environment takes every candidate: nothing to roll back to
        rid = _id("rollback", env_name)
        nodes[rid] = Node(rid, f"previous version<br/>@{env.alias_name}", "end")
        breach = (
            "canary SLO breach: auto-rollback" if env.deploy.strategy == "canary" else "rollback"
        )
        edges.append(Edge(eid, rid, breach, "rollback"))
    monitored = [t for t in ("t_drift", "t_performance") if t in nodes]
    if envs_used and monitored:
        last = _id("env", envs_used[-1])
        for tid in monitored:
            edges.append(Edge(last, tid, "monitor", "feedback"))
    return Diagram(f"{spec.name} ({spec.source})", tuple(nodes.values()), tuple(edges))


def _strategy(spec: PipelineSpec, env: str) -> str:
    d = spec.environments[env].deploy
    if d.strategy == "canary":
        return "canary " + "→".join(f"{s:g}" for s in d.steps) + "%"
    return d.strategy.replace("_", "-")


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


_MERMAID_SHAPES = {
    "step": "[{}]",
    "gate": "{{{}}}",
    "approval": "{{{}}}",
    "env": "[({})]",
    "trigger": "([{}])",
    "start": "[[{}]]",
    "end": "({})",
}


def to_mermaid(d: Diagram) -> str:
    lines = ["flowchart LR", f"  %% {d.title} — drawn by `loopline pipelines diagram`"]
    for n in d.nodes:
        lines.append(f"  {n.id}{_MERMAID_SHAPES[n.shape].format(_mermaid_text(n.label))}")
    arrows = {
        "flow": "-->",
        "trigger": "==>",
        "reject": "-.->",
        "rollback": "-.->",
        "feedback": "-.->",
    }
    for e in d.edges:
        label = f"|{_mermaid_text(e.label)}|" if e.label else ""
        lines.append(f"  {e.src} {arrows[e.style]}{label} {e.dst}")
    for i, e in enumerate(d.edges):
        if e.style == "rollback":
            lines.append(f"  linkStyle {i} stroke:{RED},stroke-width:2px,color:{RED}")
    lines.append("  classDef gate fill:#fff7ed,stroke:#c2410c")
    lines.append("  classDef trigger fill:#f8fafc,stroke:#64748b")
    lines.append(f"  classDef stop fill:#fef2f2,stroke:{RED},color:{RED}")
    for n in d.nodes:
        if n.shape == "env":
            lines.append(f"  style {n.id} fill:{n.color},stroke:#334155,stroke-width:2px")
        elif n.shape in ("gate", "approval", "trigger"):
            lines.append(f"  class {n.id} {n.shape}")
        elif n.shape == "end":
            lines.append(f"  class {n.id} stop")
    return "\n".join(lines) + "\n"


def to_dot(d: Diagram) -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<br/>", "\\n") + '"'

    attrs = {
        "step": 'shape=box, style="rounded"',
        "gate": 'shape=diamond, style=filled, fillcolor="#fff7ed"',
        "approval": 'shape=diamond, style=filled, fillcolor="#fefce8"',
        "trigger": 'shape=box, style="rounded,dashed", color="#64748b"',
        "start": 'shape=box, style="rounded,bold"',
        "end": f'shape=box, style="rounded", color="{RED}", fontcolor="{RED}"',
    }
    lines = [f"digraph {q(d.title)} {{", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    lines.append('  edge [fontname="Helvetica", fontsize=10];')
    for n in d.nodes:
        a = attrs.get(n.shape) or f'shape=box, style="filled,bold", fillcolor="{n.color}"'
        lines.append(f"  {q(n.id)} [label={q(n.label)}, {a}];")
    style = {
        "flow": "",
        "trigger": ', penwidth=2, color="#64748b"',
        "reject": ', style=dashed, color="#c2410c"',
        "rollback": f', style=dashed, color="{RED}", fontcolor="{RED}", penwidth=2',
        "feedback": ', style=dotted, color="#64748b"',
    }
    for e in d.edges:
        lines.append(f"  {q(e.src)} -> {q(e.dst)} [label={q(e.label)}{style[e.style]}];")
    return "\n".join([*lines, "}"]) + "\n"


def render_diagram(spec: PipelineSpec, fmt: str = "mermaid") -> str | bytes:
    """Mermaid or DOT text, or SVG text / PNG bytes laid out by Graphviz."""
    if fmt not in DIAGRAM_FORMATS:
        raise InvalidInputError(
            f"unknown diagram format {fmt!r}", hint=f"use one of {', '.join(DIAGRAM_FORMATS)}"
        )
    graph = diagram_graph(spec)
    if fmt == "mermaid":
        return to_mermaid(graph)
    dot_text = to_dot(graph)
    if fmt == "dot":
        return dot_text
    exe = shutil.which("dot")
    if exe is None:
        raise ConfigError(
            f"--format {fmt} needs Graphviz's `dot`, which is not installed",
            hint="install it (apt-get install graphviz / brew install graphviz) or use "
            "--format mermaid",
        )
    out = subprocess.run(
        [exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, timeout=60, check=False
    )
    if out.returncode != 0:
        raise ConfigError(f"graphviz failed: {out.stderr.decode()[:500]}", hint="report this bug")
    return out.stdout.decode() if fmt == "svg" else out.stdout


__all__ = [
    "DIAGRAM_FORMATS",
    "Diagram",
    "Edge",
    "Node",
    "diagram_graph",
    "render_diagram",
    "to_dot",
    "to_mermaid",
]
