"""`serving.finish(model, complete=...)` ends a rollout (docs/vocabulary.md §9): *promote*
means "gate, then move an alias", so last release's `promote=` is kept one release only,
with a LooplineDeprecationWarning naming `complete=`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loopline._renamed import LooplineDeprecationWarning
from loopline.errors import InvalidInputError
from loopline.registry import get_version
from loopline.serving import deploy, finish
from loopline.store import ModelVersion, open_metadata_store


def finish_as_last_release(model: str, **kwargs: Any) -> Any:
    return finish(model, **kwargs)  # mypy knows only `complete=`


def test_complete_moves_the_alias_and_stop_leaves_it(
    production: ModelVersion, train_version: Callable[..., ModelVersion]
) -> None:
    v2 = train_version()
    deploy("churn", v2.version, strategy="canary")
    stopped = finish("churn", complete=False, reason="planned")
    assert (stopped.status, stopped.challenger_percent) == ("stopped", 0.0)
    assert get_version("models:/churn@production").version == production.version
    deploy("churn", v2.version, strategy="canary")
    done = finish("churn", complete=True)
    assert (done.status, done.challenger_percent) == ("completed", 100.0)
    assert get_version("models:/churn@production").version == v2.version


def test_last_releases_promote_keyword_still_works_with_a_warning(
    production: ModelVersion, train_version: Callable[..., ModelVersion]
) -> None:
    v2 = train_version()
    deploy("churn", v2.version, strategy="canary")
    with pytest.raises(InvalidInputError, match="got complete=True and promote=False"):
        finish_as_last_release("churn", complete=True, promote=False)
    assert open_metadata_store().active_deployment("churn") is not None  # nothing ended
    with pytest.warns(LooplineDeprecationWarning, match=r"finish\(promote=\.\.\.\).*complete="):
        done = finish_as_last_release("churn", promote=True)
    assert done.status == "completed"
    assert get_version("models:/churn@production").version == v2.version
