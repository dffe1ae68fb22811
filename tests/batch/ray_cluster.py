"""One local Ray cluster for the whole test session (2 CPUs, no dashboard), shut down at the
end. Import the fixture into a test module: `from tests.batch.ray_cluster import ray_cluster`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        from ray.data import DataContext

        DataContext.get_current().enable_progress_bars = False
    yield ray
    if started:
        ray.shutdown()
