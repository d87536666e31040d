"""A scheduled sweep over the opted-in clusters, one cluster at a time.

One cluster's failure does not stop the others: it is logged and counted, and once every other
cluster has had its turn the sweep raises `SweepIncompleteError`, so Lambda retries it (and the
event ends in the dead-letter queue if it keeps failing). A cluster changed before the failure is
not changed twice on the retry: its decision is replayed or it is busy with its operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Status, plural

if TYPE_CHECKING:
    from msk_autopilot.msk import ClusterSnapshot

__all__ = ["SweepIncompleteError", "sweep_clusters"]


class SweepIncompleteError(RuntimeError):
    """Scaling failed for some clusters of a sweep; the others were handled."""

    def __init__(self, cluster_arns: list[str]) -> None:
        self.cluster_arns = cluster_arns
        super().__init__(
            f"scaling failed for {plural(len(cluster_arns), 'cluster')}: {cluster_arns}"
        )


def sweep_clusters(
    clusters: Iterable[ClusterSnapshot],
    *,
    opt_in_tag_key: str,
    act: Callable[[str], Outcome],
    acted_verb: str,
) -> Outcome:
    """`act` on every opted-in cluster's ARN; ACTED when any acted, with each one's outcome."""
    seen = list(clusters)
    opted_in = [cluster for cluster in seen if cluster.opted_in(opt_in_tag_key)]
    statuses: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for cluster in opted_in:
        try:
            outcome = act(cluster.cluster_arn)
        except Exception:  # noqa: BLE001  one cluster's failure must not stop the sweep
            logger.exception("scaling failed", extra={"cluster": cluster.cluster_arn})
            metrics.add_metric(name="ClusterErrors", unit=MetricUnit.Count, value=1)
            statuses[cluster.cluster_arn] = "error"
            continue
        statuses[cluster.cluster_arn] = outcome.status.value
        reasons[cluster.cluster_arn] = outcome.reason
    failed = sorted(arn for arn, status in statuses.items() if status == "error")
    if failed:
        raise SweepIncompleteError(failed)
    acted = sum(status == Status.ACTED.value for status in statuses.values())
    reason = (
        f"swept {len(opted_in)} opted-in of {plural(len(seen), 'cluster')}, {acted_verb} {acted}"
    )
    details = {"clusters": statuses, "reasons": reasons, "seen": len(seen)}
    return Outcome(Status.ACTED if acted else Status.UNCHANGED, reason, details)
