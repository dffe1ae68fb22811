"""What a compute-engine worker imports to run a `ChunkScorer`: the batch package and the
model's library, not the store, the registry or SQLAlchemy (a Ray worker imports
`loopline.batch` when it unpickles a scorer; ~0.5 s of CPU per worker process went on them).
Checked in a fresh interpreter, since this test process has imported everything already."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import loopline.batch
print(sorted(m for m in ("sqlalchemy", "loopline.store", "loopline.registry") if m in sys.modules))
"""


def test_the_batch_package_imports_no_store() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
