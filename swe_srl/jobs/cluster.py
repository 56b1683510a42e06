"""Where jobs run: threads of this process, or a Ray cluster (jobs/ray_batch.py, imported only when chosen)."""

from __future__ import annotations

import importlib.util
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from swe_srl.config.sections import ClusterConfig
from swe_srl.errors import ConfigError


def require_ray(cluster: ClusterConfig) -> None:
    """ConfigError saying how to install Ray when ``cluster`` asks for it and it is not installed."""
    if importlib.util.find_spec("ray") is None:
        raise ConfigError(f"--ray {cluster.ray} needs Ray: pip install 'swe-srl[ray]' (on every node of the cluster)")


def held_cluster(cluster: ClusterConfig) -> AbstractContextManager[Any]:
    """Keeps ``cluster`` joined (a local one running) across the batches inside; threads need nothing held."""
    if not cluster.ray:
        return nullcontext()
    require_ray(cluster)
    from swe_srl.jobs.ray_batch import ray_session

    return ray_session(cluster)
