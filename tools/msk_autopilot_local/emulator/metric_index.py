"""An index over moto's CloudWatch metric data, and GetMetricData served from it.

moto keeps every datum in one list and answers GetMetricData by scanning that list once per
query and period (and sorting each datum's dimensions each time), so a query costs O(data). The
emulator's clusters publish MSK's health metrics every emulated minute, the health gates read
them before every change and alarm evaluation reads them on every clock advance: with moto's scan
a test run spends most of its time there. The index groups the data by metric (namespace, name,
exact dimensions), kept sorted by time and brought up to date from the list's new tail on each
read, or rebuilt when the list was replaced or shortened (the emulator's health part replaces it
when a profile rewrites its window). Answers are moto's: the same periods, statistics, labels,
units and ordering. Only the namespace MSK publishes in (`AWS/Kafka`, which none of moto's own
metric providers write) is served so; other namespaces, metric math and Metrics Insights still go
to moto.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, Statistics

__all__ = ["INDEXED_NAMESPACE", "install_metric_index", "metric_series"]

INDEXED_NAMESPACE = "AWS/Kafka"

type MetricKey = tuple[str, str, frozenset[tuple[str, str]]]

_ATTRIBUTE = "_msk_emulator_metric_index"


class _Index:
    def __init__(self) -> None:
        self.source: list[Any] | None = None  # the list indexed (held, so its id is not reused)
        self.seen = 0  # how much of it
        self.times: dict[MetricKey, list[datetime]] = {}
        self.data: dict[MetricKey, list[Any]] = {}
        self.by_name: dict[tuple[str, str], set[MetricKey]] = {}

    def refresh(self, data: list[Any]) -> None:
        if self.source is not data or self.seen > len(data):
            self.times, self.data, self.by_name = {}, {}, {}
            self.seen = 0
        for datum in data[self.seen :]:
            key = (
                datum.namespace,
                datum.name,
                frozenset((d.name, d.value) for d in datum.dimensions),
            )
            times = self.times.setdefault(key, [])
            at = bisect.bisect_right(times, datum.timestamp)
            times.insert(at, datum.timestamp)
            self.data.setdefault(key, []).insert(at, datum)
            self.by_name.setdefault(key[:2], set()).add(key)
        self.source, self.seen = data, len(data)

    def between(self, key: MetricKey, start: datetime, end: datetime) -> list[Any]:
        times = self.times.get(key, [])
        return self.data.get(key, [])[
            bisect.bisect_left(times, start) : bisect.bisect_left(times, end)
        ]


def _index(backend: CloudWatchBackend) -> _Index:
    index: _Index | None = getattr(backend, _ATTRIBUTE, None)
    if index is None:
        index = _Index()
        setattr(backend, _ATTRIBUTE, index)
    index.refresh(backend.metric_data)
    return index


def metric_series(
    backend: CloudWatchBackend,
    namespace: str,
    name: str,
    dimensions: Iterable[tuple[str, str]] | None,
    *,
    start: datetime,
    end: datetime,
) -> list[Any]:
    """The data of one metric in [start, end), by time; with `dimensions` None, every metric of
    that name in the namespace (moto's reading of a query without dimensions)."""
    index = _index(backend)
    if dimensions is None:
        keys = index.by_name.get((namespace, name), set())
        found = [datum for key in keys for datum in index.between(key, start, end)]
        return sorted(found, key=lambda datum: datum.timestamp)
    return index.between((namespace, name, frozenset(dimensions)), start, end)


def _statistic_results(
    backend: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str,
) -> list[dict[str, Any]]:
    results = []
    for query in queries:
        stat_query = query["MetricStat"]
        metric, stat = stat_query["Metric"], stat_query["Stat"]
        delta = timedelta(seconds=int(stat_query["Period"]))
        given = metric.get("Dimensions") or []
        dimensions = [(d["Name"], d["Value"]) for d in given] if given else None
        data = metric_series(
            backend,
            metric["Namespace"],
            metric["MetricName"],
            dimensions,
            start=start_time,
            end=end_time,
        )
        if unit := stat_query.get("Unit"):
            data = [datum for datum in data if datum.unit == unit]
        buckets: dict[int, list[Any]] = {}
        for datum in data:
            buckets.setdefault(int((datum.timestamp - start_time) / delta), []).append(datum)
        values, timestamps = [], []
        for number in sorted(buckets):
            statistics = Statistics([stat], start_time + number * delta)
            statistics.metric_data = buckets[number]
            values.append(statistics.get_statistics_for_type(stat))
            timestamps.append(statistics.timestamp)
        if scan_by == "TimestampDescending":
            values.reverse()
            timestamps.reverse()
        if query.get("ReturnData", True):
            results.append(
                {
                    "id": query["Id"],
                    "label": query.get("Label") or f"{metric['MetricName']} {stat}",
                    "values": values,
                    "timestamps": timestamps,
                    "status_code": "Complete",
                }
            )
    return results


def install_metric_index() -> None:
    """Serve plain MetricStat GetMetricData requests from the index (idempotent)."""
    original: Callable[..., list[dict[str, Any]]] = CloudWatchBackend.get_metric_data
    if getattr(original, "_msk_emulator_indexed", False):
        return

    def get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if not queries or any(
            query.get("MetricStat", {}).get("Metric", {}).get("Namespace") != INDEXED_NAMESPACE
            for query in queries
        ):
            return original(self, queries, start_time, end_time, scan_by)
        start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        if start >= end:  # moto's validation errors
            return original(self, queries, start_time, end_time, scan_by)
        return _statistic_results(self, queries, start, end, scan_by)

    get_metric_data._msk_emulator_indexed = True  # type: ignore[attr-defined]
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
