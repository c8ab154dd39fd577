"""Fixtures shared across test packages."""

import pytest


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray (2 CPUs) for every test that needs it, shut down when the session ends."""
    ray = pytest.importorskip("ray")

    from pipelines.encoders.ray_engine import job_runtime_env

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=job_runtime_env())
    yield ray
    ray.shutdown()
