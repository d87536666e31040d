"""Read what the gates for one kind of change need: one GetMetricData call. Metrics no gate of the
kind reads are not fetched, so a storage growth (whose gates read no metric) costs no CloudWatch
call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from msk_autopilot.health.gates import WINDOW, Gate, HealthReading, MetricNeed, Sample
from msk_autopilot.msk import ClusterSnapshot, Operation

__all__ = ["KAFKA_NAMESPACE", "HealthReader"]

KAFKA_NAMESPACE = "AWS/Kafka"
_PERIOD_SECONDS = 60
_QUERIES_PER_CALL = 500  # GetMetricData's limit


class HealthReader:
    def __init__(self, cloudwatch: Any) -> None:
        self.cloudwatch = cloudwatch

    def read(
        self,
        cluster: ClusterSnapshot,
        operations: Sequence[Operation],
        gates: Sequence[Gate],
        *,
        now: datetime,
    ) -> HealthReading:
        needs = {need for gate in gates for need in gate.metrics}
        metrics = self._metrics(cluster, needs, now=now) if needs else {}
        return HealthReading(cluster=cluster, operations=tuple(operations), metrics=metrics)

    def _metrics(
        self, cluster: ClusterSnapshot, needs: set[MetricNeed], *, now: datetime
    ) -> dict[str, dict[str, list[Sample]]]:
        queries: dict[str, tuple[str, str, dict[str, Any]]] = {}
        found: dict[str, dict[str, list[Sample]]] = {}
        for need in sorted(needs, key=lambda n: n.name):
            owners = cluster.broker_ids if need.per_broker else ["cluster"]
            found[need.name] = {owner: [] for owner in owners}
            for owner in owners:
                dimensions = [{"Name": "Cluster Name", "Value": cluster.cluster_name}]
                if need.per_broker:
                    dimensions.append({"Name": "Broker ID", "Value": owner})
                query_id = f"q{len(queries)}"
                metric = {
                    "Namespace": KAFKA_NAMESPACE,
                    "MetricName": need.name,
                    "Dimensions": dimensions,
                }
                stat = {"Metric": metric, "Period": _PERIOD_SECONDS, "Stat": need.statistic}
                queries[query_id] = (
                    need.name,
                    owner,
                    {"Id": query_id, "MetricStat": stat, "ReturnData": True},
                )
        ordered = list(queries.values())
        for start in range(0, len(ordered), _QUERIES_PER_CALL):
            batch = ordered[start : start + _QUERIES_PER_CALL]
            request: dict[str, Any] = {
                "MetricDataQueries": [query for _, _, query in batch],
                "StartTime": now - WINDOW,
                "EndTime": now,
                "ScanBy": "TimestampAscending",
            }
            while True:
                response = self.cloudwatch.get_metric_data(**request)
                for result in response.get("MetricDataResults", []):
                    name, owner, _ = queries[str(result["Id"])]
                    found[name][owner].extend(
                        Sample(at=at, value=float(value))
                        for at, value in zip(result["Timestamps"], result["Values"], strict=True)
                    )
                token = response.get("NextToken")
                if not token:
                    break
                request["NextToken"] = token
        return found
