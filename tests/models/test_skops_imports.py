"""Loading a skops model does not import torch (models/_skops.py): skops' import-time walk of
scikit-learn would pull it in through the array-API shim, 4-5 s and ~300 MB per serving worker.
Checked in a fresh interpreter, since this test process has imported everything already."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from loopline.models import save_model
from loopline.store import FsspecArtifactStore

# Whether torch is installed, without importing it: `importorskip` would import torch into
# every xdist worker at collection (4-5 s of CPU and ~300 MB each) for a yes or no.
if importlib.util.find_spec("torch") is None:
    pytest.skip("torch is not installed here: nothing to keep out", allow_module_level=True)

LOAD = """
import sys
from loopline.models import load_model
from loopline.store import FsspecArtifactStore
loaded = load_model(FsspecArtifactStore(sys.argv[1]), sys.argv[2])
print(loaded.raw.predict([[0.0, 1.0], [2.0, 3.0]]).tolist())
print("torch" in sys.modules, "sklearn.externals.array_api_compat.torch" in sys.modules)
import sklearn.externals.array_api_compat.torch  # importable afterwards: the guard is undone
print("torch" in sys.modules)
"""


def test_loading_a_skops_model_leaves_torch_unimported(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0, 1.0], [2.0, 3.0]], [0, 1])
    package = save_model(model, FsspecArtifactStore(str(tmp_path)))
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(tmp_path), package.sha256],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    predictions, during, after = done.stdout.splitlines()
    assert predictions == "[0, 1]"
    assert during == "False False"
    assert after == "True"
