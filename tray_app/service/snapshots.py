"""Where a snapshot is taken, and where the prompt summary is written: here, only here.

A snapshot covers a scope: every source (the tray, `watch`, `status`, `login`), or every
source but the pull secrets of Kubernetes clusters (``kubernetes=False``: `status
--no-kubernetes`, `login --no-kubernetes`, `credhelper`, which are about Docker's logins).
The prompt summary (tray_app/summary.py) describes every login, cluster secrets included,
so only a snapshot that covered them rewrites it: one of the full scope, or one of a
machine with nothing to leave out (no kubeconfig that may name a cluster, or
``[kubernetes] enabled = false``). Otherwise the prompt's countdown would depend on which
command ran last.
"""

from __future__ import annotations

from tray_app.record import record
from tray_app.settings import Paths, Settings, load_settings
from tray_app.snapshot import has_kubeconfig, take_snapshot
from tray_app.summary import write_summary

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from tray_app.model import Snapshot


@record
class Taken:
    """A snapshot, the settings it was taken with, and what was wrong with the config
    file (None: nothing; the defaults were used otherwise)."""

    snapshot: Snapshot
    settings: Settings
    settings_problem: str | None
    complete: bool  # it covered every source the summary describes (and rewrote it)


class Snapshots:
    """Takes snapshots for one front end and keeps what is worth keeping between them.

    A command makes one and takes one snapshot. The tray and `watch` keep one for their
    life: its cluster scan then asks the clusters at most every ``kube_max_age`` seconds
    (or when a kubeconfig changes), not on every snapshot."""

    def __init__(self, paths: Paths, *, kubernetes: bool = True, kube_max_age: float = 0.0,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.paths = paths
        self.kubernetes = kubernetes
        self.kube_max_age = kube_max_age
        self.monotonic = monotonic
        self.clusters = None  # a ClusterScan, made once a kubeconfig may name a cluster

    def take(self, now: datetime | None = None) -> Taken:
        """Read settings and every source of the scope; rewrite the prompt summary when
        the snapshot is complete (a failed write is ignored: the prompt then marks its old
        summary stale and refreshes it)."""
        settings, problem = load_settings(self.paths)
        wanted = settings.kubernetes and has_kubeconfig(self.paths, settings)
        clusters = self._cluster_scan() if wanted and self.kubernetes else None
        snapshot = take_snapshot(self.paths, settings, now, clusters)
        complete = self.kubernetes or not wanted
        if complete:
            write_summary(self.paths, snapshot, settings)
        return Taken(snapshot, settings, problem, complete)

    def invalidate_clusters(self) -> None:
        """Ask the clusters again next time (a renewal just rewrote their secrets)."""
        if self.clusters is not None:
            self.clusters.invalidate()

    def _cluster_scan(self):
        if self.clusters is None:
            from tray_app.sources.kubernetes import ClusterScan  # only with a kubeconfig

            if self.monotonic is None:
                self.clusters = ClusterScan(self.kube_max_age)
            else:
                self.clusters = ClusterScan(self.kube_max_age, self.monotonic)
        return self.clusters


def take(paths: Paths | None = None, *, kubernetes: bool = True) -> Taken:
    """One snapshot of ``paths`` (default: from the environment) for a command."""
    return Snapshots(paths or Paths.from_env(), kubernetes=kubernetes).take()
