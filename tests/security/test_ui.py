"""The web UI (issue 15): it never opens a path taken from a tag or record, reads YAML only
within a budget, shows a broken monitor config on that monitor's card only, and changes
state only through the library functions the CLI uses. Each test starts a real team server
(API + UI) on 127.0.0.1 over the test's own store; its docstring names the finding.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loopline.ops._roles import acting_as
from loopline.store import Lineage, open_artifact_store
from tests._team_server import TeamServer, start_team_server
from tests.conftest import run_cli
from tests.ui._fill import MODEL, Filled, fill

REPO = Path(__file__).resolve().parents[2]
CHURN_SPEC = REPO / "examples" / "churn" / "loopline.yaml"
SPEC_ARTIFACT = "pipeline/loopline.yaml"
BOMB = """name: bomb
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
steps: {x: {run: "m:f"}}
"""


@pytest.fixture
def team(home: Path) -> Iterator[tuple[TeamServer, Filled]]:
    server = start_team_server()
    filled = fill(server.store, server.settings.home, n_runs=3, n_versions=4, steps=3, n_windows=3)
    yield server, filled
    server.stop()


def _ui(team: TeamServer, role: str = "admin", user: str = "alice") -> httpx.Client:
    return httpx.Client(
        base_url=team.url,
        cookies={"loopline_token": team.token(user, role)},
        follow_redirects=False,
        timeout=60,
    )


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert m, "no csrf meta tag"
    return m[1]


def _pipeline_run(team: TeamServer, name: str, tags: dict[str, str]) -> str:
    with acting_as(None):
        run = team.store.create_run(
            name,
            f"{name} (manual)",
            {},
            {"loopline.kind": "pipeline", "loopline.pipeline": name, "step.x": "ok", **tags},
            Lineage(),
        )
        team.store.finish_run(run.id, "finished")
    return run.id


def _record_spec(team: TeamServer, run_id: str, text: str) -> None:
    sha, size = open_artifact_store(team.settings).put_bytes(text.encode())
    with acting_as(None):
        team.store.record_artifact(run_id, SPEC_ARTIFACT, "pipeline-spec", sha, size)


def test_pipelines_page_never_opens_a_path_from_a_tag(
    team: tuple[TeamServer, Filled], tmp_path: Path
) -> None:
    """Finding 3 (UI opens a path from a tag): a run tagged `pipeline.file=/bin/ls` made
    `/pipelines` a 500 for everyone, and a tag naming any readable spec made the server
    read and draw it. The page opens no path from a tag: it still answers 200, shows the
    tag as text, and nothing of the named file."""
    server, _ = team
    planted = tmp_path / "planted.yaml"
    planted.write_text(
        CHURN_SPEC.read_text().replace("train:", "read_from_a_tag_marker:", 1), encoding="utf-8"
    )
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    _pipeline_run(server, "binary", {"pipeline.file": "/bin/ls"})
    _pipeline_run(server, "planted", {"pipeline.file": str(planted)})
    _pipeline_run(server, "bomb", {"pipeline.file": str(bomb)})
    with _ui(server) as c:
        t0 = time.perf_counter()
        r = c.get("/pipelines")
        elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text[:500]
    assert "/bin/ls" in r.text  # the tag, as text
    assert "read_from_a_tag_marker" not in r.text  # nothing read from the named file
    assert elapsed < 2.0


def test_pipeline_diagram_comes_from_the_recorded_spec_artifact(
    team: tuple[TeamServer, Filled],
) -> None:
    """Finding 3: the diagram is drawn from the spec the run recorded in the artifact store
    (sha256-verified), so it shows on every server, whatever its filesystem."""
    server, _ = team
    run_id = _pipeline_run(server, "churn-recorded", {"pipeline.file": "/nowhere/loopline.yaml"})
    _pipeline_run(server, "tag-only", {"pipeline.file": str(CHURN_SPEC)})
    _record_spec(server, run_id, CHURN_SPEC.read_text())
    with _ui(server) as c:
        r = c.get("/pipelines")
    assert r.status_code == 200
    sections = {
        part.split("</h2>", 1)[0].rsplit(">", 1)[-1]: part for part in r.text.split("<section")
    }
    assert "<svg" in sections["churn-recorded"]  # drawn from the artifact
    assert "workflow diagram of churn-recorded" in sections["churn-recorded"]
    # A run naming a readable spec only by its tag gets no diagram: the path is not opened.
    assert "No spec recorded" in sections["tag-only"] and "<svg" not in sections["tag-only"]


def test_recorded_spec_is_read_within_a_budget_and_opens_no_file(
    team: tuple[TeamServer, Filled], tmp_path: Path
) -> None:
    """Finding 3 (YAML alias bomb; a spec naming files): a recorded spec that is an alias
    bomb costs nothing (refused by the YAML budget, the page answers at once); a spec whose
    gate policy names a file is drawn without opening it; a colour from the spec is
    escaped."""
    server, _ = team
    secret = tmp_path / "policy.yaml"
    secret.write_text("name: opened_policy_marker\nrules: ['auc >= 0.9']\n")
    spec = CHURN_SPEC.read_text()
    spec = re.sub(r"(?m)^(\s+)policy:.*$", rf"\1policy: {secret}", spec, count=1)
    spec = spec.replace("environments:", 'environments:\n  evil: {color: "\\"/><b>x</b>"}', 1)
    bomb_run = _pipeline_run(server, "a-bomb", {})
    _record_spec(server, bomb_run, BOMB)
    policy_run = _pipeline_run(server, "b-policy", {})
    _record_spec(server, policy_run, spec)
    with _ui(server) as c:
        c.get("/pipelines")
        t0 = time.perf_counter()
        r = c.get("/pipelines")
        elapsed = time.perf_counter() - t0
    assert r.status_code == 200
    assert elapsed < 0.5  # the page's budget
    assert "opened_policy_marker" not in r.text
    assert "<b>x</b>" not in r.text


def test_the_shared_yaml_reader_refuses_alias_bombs_and_deep_documents() -> None:
    """Finding 3 (YAML budget): every YAML Loopline reads (pipeline specs, contracts) goes
    through one reader that refuses alias expansion past a budget, recursive aliases,
    deep nesting and oversized documents with one InvalidInputError line."""
    from loopline.errors import InvalidInputError
    from loopline.pipelines import parse_pipeline

    with pytest.raises(InvalidInputError, match="expands to more than"):
        parse_pipeline(BOMB, "bomb.yaml")
    with pytest.raises(InvalidInputError, match="more than 100 aliases"):
        parse_pipeline("x: &x 1\ny: [" + ", ".join(["*x"] * 101) + "]\n", "many.yaml")
    with pytest.raises(InvalidInputError, match="alias inside its own anchor"):
        parse_pipeline("a: &a [*a]\n", "self.yaml")
    with pytest.raises(InvalidInputError, match="nested more than 64"):
        parse_pipeline("a: " + "[" * 500 + "]" * 500 + "\n", "deep.yaml")
    with pytest.raises(InvalidInputError, match="over the 4 MiB limit"):
        parse_pipeline("# " + "x" * (5 * 2**20) + "\n", "big.yaml")
    with pytest.raises(InvalidInputError, match="expands to more than"):
        _contract(BOMB)
    # Ordinary anchors still work.
    spec = CHURN_SPEC.read_text()
    assert parse_pipeline(spec, str(CHURN_SPEC), CHURN_SPEC.parent).name


def _contract(text: str) -> object:
    from loopline.data import Contract

    return Contract.from_yaml_text(text, "bomb.yaml")


def test_a_bad_monitor_window_is_an_error_on_its_card_only(
    team: tuple[TeamServer, Filled],
) -> None:
    """Finding 4 (one bad monitor breaks every page): a monitor whose stored `window` is
    not a duration made `/`, `/monitoring` and the deployment page 422 for every user.
    Each page now answers 200 and shows the problem on that monitor's card."""
    import sqlalchemy as sa

    from loopline.store.sql._schema import monitors

    server, filled = team
    with acting_as(None):
        monitor = next(m for m in server.store.list_monitors() if m.id == filled.monitor_id)
    # The store may refuse such a config on write now; a row written before it did (or by an
    # older version) is still read by every page. Write it the way it got there: directly.
    engine = sa.create_engine(server.settings.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.update(monitors)
                .where(monitors.c.id == monitor.id)
                .values(window_spec="banana", config={**monitor.config, "lookback": "many"})
            )
    finally:
        engine.dispose()
    with _ui(server, "viewer", "victor") as c:
        for path in (
            "/",
            "/monitoring",
            f"/models/{MODEL}/deployment",
            f"/monitoring/{filled.monitor_id}",
        ):
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            assert "banana" in r.text or "lookback" in r.text, path
        assert "is not a duration" in c.get("/monitoring").text


def test_ui_rollback_goes_through_the_library_and_its_sha256_check(
    team: tuple[TeamServer, Filled], package_sha: str
) -> None:
    """Finding 5 (UI rollback skips the sha256 check): the UI called the store's
    `rollback_alias` directly, so it could point an alias at a version whose files no
    longer match their sha256. It now calls `loopline.registry.rollback`, like the CLI:
    a version whose blob does not verify is refused and the alias stays put."""
    server, _ = team
    with acting_as(None):
        seed = server.store.get_version("seed", 1)
        versions = [
            server.store.create_version(
                "loan",
                run_id=seed.run_id,
                artifact_path="model",
                sha256=package_sha if i == 0 else f"{i:064x}",  # v2's files were never stored
                flavor="sklearn",
                signature=None,
                metrics={},
                git_commit=None,
                created_by="alice",
                card={},
            ).version
            for i in range(3)
        ]
        for v in versions:
            server.store.move_alias("loan", "candidate", v, actor="alice", action="promote")
    url = "/models/loan/aliases/candidate/rollback"
    with _ui(server, "ml-engineer", "erin") as c:
        token = _csrf(c.get("/models/loan").text)
        r = c.post(url, data={"csrf": token, "to_version": str(versions[1])})
        assert r.status_code >= 400 and r.status_code != 303, r.status_code
        assert server.store.get_model("loan").aliases["candidate"] == versions[2]
        r = c.post(url, data={"csrf": token, "to_version": str(versions[0])})
        assert r.status_code == 303, r.text[:300]
    assert server.store.get_model("loan").aliases["candidate"] == versions[0]
    event = server.store.list_audit_events()[-1]
    assert (event.action, event.actor) == ("rollback", "erin")


def test_ui_deployment_rollback_is_the_library_function_the_cli_uses(
    team: tuple[TeamServer, Filled],
) -> None:
    """Finding 5: the UI's "roll back the rollout" wrote the deployment row itself; it now
    calls `serving.rollback_deployment`, which `loopline deploy rollback` calls too (one
    rule, one audit action: deploy.rollback by the signed-in user)."""
    server, _ = team
    with _ui(server, "ml-engineer", "erin") as c:
        token = _csrf(c.get(f"/models/{MODEL}/deployment").text)
        r = c.post(f"/models/{MODEL}/deployment/rollback", data={"csrf": token, "reason": "p95"})
        assert r.status_code == 303, r.text[:300]
    last = server.store.list_deployments(MODEL)[-1]
    assert (last.status, last.reason) == ("rolled_back", "p95")
    recent = [(e.action, e.actor) for e in server.store.list_audit_events()[-3:]]
    assert ("deploy.rollback", "erin") in recent
    # The CLI command behind the same function: nothing active is left to roll back.
    result = run_cli("deploy", "rollback", MODEL)
    assert result.returncode == 2 and "no active deployment" in result.stdout + result.stderr
