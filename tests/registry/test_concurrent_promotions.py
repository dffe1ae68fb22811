"""8 processes x 200 promote/rollback operations on one alias against one SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable

import loopline as ll
from loopline.ops import verify_audit
from loopline.store import ModelVersion, open_metadata_store

WORKER = textwrap.dedent(
    """
    import json, random, sys
    import loopline as ll
    from loopline.errors import ConflictError
    rng = random.Random(int(sys.argv[1]))
    moves = 0
    for _ in range(200):
        try:
            if rng.random() < 0.6:
                ll.promote("churn", rng.randint(1, 3), "production")
            else:
                ll.rollback("churn", "production")
            moves += 1
        except ConflictError:
            pass  # already the holder / nothing to roll back: refused, nothing written
    print(json.dumps({"moves": moves}))
    """
)


def test_alias_has_one_holder_and_audit_replays_to_it(
    train_version: Callable[..., ModelVersion],
) -> None:
    for _ in range(3):
        train_version()
    ll.promote("churn", 1, "production")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(8)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    moves = 1 + sum(json.loads(out)["moves"] for out, _ in outputs)

    store = open_metadata_store()
    holder = store.get_version_by_alias("churn", "production")
    events = [e for e in store.list_audit_events() if e.target_id == "churn@production"]
    assert len(events) == moves  # exactly one audit event per successful move
    assert len(store.alias_history("churn", "production")) == moves

    # Replaying the events reproduces the final state, and each starts where the last ended.
    state = None
    for e in events:
        assert (e.before or {}).get("version") == state
        state = (e.after or {})["version"]
    assert state == holder.version
    assert verify_audit().ok
