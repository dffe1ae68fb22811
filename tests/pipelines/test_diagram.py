"""Diagrams come from the spec the runner uses: boxes, diamonds, coloured environments,
triggers on arrows, red rollback paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loopline.errors import ConfigError, InvalidInputError
from loopline.pipelines import diagram_graph, load_pipeline, parse_pipeline, render_diagram
from tests.pipelines.cli import invoke

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"


def test_the_churn_diagram_shows_stages_gates_environments_triggers_and_rollbacks() -> None:
    spec = load_pipeline(CHURN)
    graph = diagram_graph(spec)
    shapes = {n.id: n.shape for n in graph.nodes}
    assert shapes["s_train"] == "step" and shapes["gate_staging"] == "gate"
    assert shapes["env_production"] == "env" and shapes["t_drift"] == "trigger"
    labels = {(e.src, e.dst): e.label for e in graph.edges}
    assert labels[("t_schedule", "pipeline")] == "weekly Mon 06:00"
    assert labels[("t_drift", "pipeline")] == "on drift"
    assert labels[("t_ci", "pipeline")] == "on push"
    assert labels[("gate_production", "env_production")] == "pass"
    assert labels[("gate_staging", "rejected_staging")] == "fail"
    rollbacks = [e for e in graph.edges if e.style == "rollback"]
    assert {e.src for e in rollbacks} == {"env_staging", "env_production"}
    text = render_diagram(spec, "mermaid")
    assert isinstance(text, str) and text.startswith("flowchart LR")
    assert 'gate_staging{"gate: staging<br/>2 rules"}' in text
    assert "style env_production fill:#dcfce7" in text
    red = [line for line in text.splitlines() if line.strip().startswith("linkStyle")]
    assert len(red) == 2 and all("stroke:#dc2626" in line for line in red)
    dot = render_diagram(spec, "dot")
    assert isinstance(dot, str) and "shape=diamond" in dot and 'color="#dc2626"' in dot


def test_approvals_rollouts_and_odd_names_are_drawn() -> None:
    spec = parse_pipeline(
        """name: p
model: m
steps:
  end: {run: steps:end, outputs: [model]}
  register: {uses: register, inputs: {model: end.model}}
  ship-it: {uses: promote, to: prod, inputs: {version: register.version}}
environments:
  prod: {approval: true, deploy: {strategy: canary, steps: [5, 50, 100]}, color: "#123456"}
""",
        "p.yaml",
    )
    text = render_diagram(spec, "mermaid")
    assert isinstance(text, str)
    assert 'approve_prod{"approval<br/>approver"}' in text
    assert "canary 5→50→100%" in text and "canary SLO breach: auto-rollback" in text
    assert "s_end[" in text and "gate_ship_it" in text  # `end` would close a Mermaid block
    assert "style env_prod fill:#123456" in text


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_graphviz_renders_svg_and_png(fmt: str, tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz)")
    out = tmp_path / f"churn.{fmt}"
    result = invoke("pipelines", "diagram", str(CHURN), "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in data[:500]


def test_missing_graphviz_and_unknown_formats_are_one_line_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = load_pipeline(CHURN)
    with pytest.raises(InvalidInputError, match="unknown diagram format 'gif'"):
        render_diagram(spec, "gif")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(ConfigError, match="needs Graphviz's `dot`"):
        render_diagram(spec, "svg")


def test_the_diagram_command_prints_mermaid() -> None:
    result = invoke("pipelines", "diagram", str(CHURN))
    assert result.exit_code == 0 and result.output.startswith("flowchart LR")
