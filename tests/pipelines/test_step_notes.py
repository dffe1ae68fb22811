"""A step's line says each thing once: the status word is not repeated by its note
(`✓ validate ok — passed: 3/3 rules passed` said "passed" twice, like `cached — cached`)."""

from __future__ import annotations

from loopline.pipelines import run_pipeline
from tests.pipelines.cli import invoke
from tests.pipelines.conftest import Toy

SPEC = """
name: toy
contract: contract.yaml
params: {n: 50, seed: 1}
steps:
  make: {run: steps:make, params: [n, seed], outputs: [data]}
  check: {uses: validate, inputs: {data: make.data}}
"""
CONTRACT = """
name: toy-feed
columns:
  a: {dtype: float, nullable: false}
  label: {dtype: int, allowed: [0, 1]}
"""


def test_a_passing_validation_says_passed_once(toy: Toy) -> None:
    (toy.folder / "contract.yaml").write_text(CONTRACT)
    toy.write(SPEC)
    out = invoke("pipelines", "run", str(toy.folder)).output  # first: the step runs
    (line,) = [line for line in out.splitlines() if "check" in line and "rules" in line]
    assert line.count("passed") == 1 and "rules passed on 50 rows" in line, line
    note = run_pipeline(toy.write(SPEC), params={"n": 60}).step("check").note
    assert note.startswith("6/6 rules passed on 60 rows"), note
