"""Keeping what the health monitor owns in step with what it wants (I/O).

Each keeper lists what exists under our name prefix, keeps only what carries our mark (an
alarm's description marker, a dashboard's marker widget, a metric filter's namespace), and then
creates what is missing, rewrites what differs and deletes what is no longer wanted. A sync is
scoped to one cluster (an event) or to every cluster (a sweep); what another cluster owns, or
what we did not create, is never touched. Every write is an upsert by a deterministic name, so
repeated and concurrent syncs converge without duplicates; query definitions, which CloudWatch
Logs names by a generated id, are deduplicated by name on the next sync. A dry run reports and
changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import error_code, pages
from msk_autopilot.health.alarms import cluster_arn_of_alarm, cluster_name_of_arn, owned_alarm
from msk_autopilot.health.broker_logs import LOG_FILTERS, LOG_NAMESPACE
from msk_autopilot.health.dashboard import DASHBOARD_MARKER
from msk_autopilot.observability import logger

__all__ = ["AlarmKeeper", "DashboardKeeper", "LogFilterKeeper", "QueryKeeper", "Sync"]

_DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names
_ALARM_KEYS = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)
_ALARM_LISTS = ("AlarmActions", "OKActions")  # DescribeAlarms answers [] for none


class Sync(msgspec.Struct, frozen=True):
    created: list[str] = msgspec.field(default_factory=list)
    updated: list[str] = msgspec.field(default_factory=list)
    deleted: list[str] = msgspec.field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
        }


def _in_scope(cluster_name: str | None, scope: str | None) -> bool:
    return scope is None or cluster_name == scope


def _logs_pages(call: Any, /, **parameters: Any) -> Iterator[Mapping[str, Any]]:
    """Every page of a CloudWatch Logs list call, which pages with a lowercase nextToken."""
    while True:
        page: Mapping[str, Any] = call(**parameters)
        yield page
        token = page.get("nextToken")
        if not token or token == parameters.get("nextToken"):
            return
        parameters = {**parameters, "nextToken": token}


_GONE = frozenset({"ResourceNotFound", "ResourceNotFoundException", "DashboardNotFoundError"})


def _delete_all(call: Any, key: str, names: list[str]) -> None:
    """Delete `names` in one call; when one is gone already (a concurrent sync deleted it), the
    call deletes nothing, so delete them one at a time and skip the gone."""
    try:
        call(**{key: names})
    except ClientError as error:
        if error_code(error) not in _GONE:
            raise
        for name in names:
            try:
                call(**{key: [name]})
            except ClientError as single:
                if error_code(single) not in _GONE:
                    raise


def _plan(
    wanted: Mapping[str, Any], existing: Mapping[str, Any], same: Any
) -> tuple[list[str], list[str], list[str]]:
    created = sorted(name for name in wanted if name not in existing)
    updated = sorted(
        name for name in wanted if name in existing and not same(existing[name], wanted[name])
    )
    deleted = sorted(set(existing) - set(wanted))
    return created, updated, deleted


def _metric_queries(queries: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A metric math alarm's Metrics as comparable values (dimensions in any order)."""
    normal = []
    for query in queries:
        entry = {k: query.get(k) for k in ("Id", "Expression", "Label", "ReturnData")}
        stat = query.get("MetricStat")
        if stat:
            metric = stat["Metric"]
            entry["MetricStat"] = {
                "Namespace": metric.get("Namespace"),
                "MetricName": metric.get("MetricName"),
                "Dimensions": sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])),
                "Period": stat.get("Period"),
                "Stat": stat.get("Stat"),
            }
        normal.append(entry)
    return normal


def _same_alarm(current: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    if any(current.get(key) != request.get(key) for key in _ALARM_KEYS):
        return False
    if any(list(current.get(k) or []) != list(request.get(k) or []) for k in _ALARM_LISTS):
        return False
    dimensions = sorted((d["Name"], d["Value"]) for d in current.get("Dimensions", []))
    if dimensions != sorted((d["Name"], d["Value"]) for d in request.get("Dimensions", [])):
        return False
    return _metric_queries(current.get("Metrics", [])) == _metric_queries(
        request.get("Metrics", [])
    )


class AlarmKeeper(msgspec.Struct):
    """The metric alarms under one name prefix that carry one description marker."""

    cloudwatch: Any
    prefix: str
    marker: str

    def existing(self, scope: str | None) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        listing = pages(
            self.cloudwatch.describe_alarms, AlarmNamePrefix=self.prefix, AlarmTypes=["MetricAlarm"]
        )
        for page in listing:
            for alarm in page.get("MetricAlarms", []):
                if not owned_alarm(alarm, self.marker):
                    continue
                arn = cluster_arn_of_alarm(alarm["AlarmDescription"]) or ""
                if _in_scope(cluster_name_of_arn(arn), scope):
                    found[alarm["AlarmName"]] = alarm
        return found

    def sync(
        self,
        wanted: Mapping[str, dict[str, Any]],
        existing: Mapping[str, Mapping[str, Any]],
        *,
        actions_enabled: Mapping[str, bool],
        dry_run: bool,
    ) -> Sync:
        """Make exactly `wanted` exist; `actions_enabled` by alarm name (muted while MSK
        maintains the cluster) for the alarms this writes."""
        created, updated, deleted = _plan(wanted, existing, _same_alarm)
        if not dry_run:
            for name in created + updated:
                enabled = actions_enabled.get(name, True)
                self.cloudwatch.put_metric_alarm(**wanted[name], ActionsEnabled=enabled)
            for start in range(0, len(deleted), _DELETE_BATCH):
                batch = deleted[start : start + _DELETE_BATCH]
                _delete_all(self.cloudwatch.delete_alarms, "AlarmNames", batch)
        return Sync(created, updated, deleted, len(wanted) - len(created) - len(updated))

    def set_actions(self, names: list[str], *, enabled: bool) -> None:
        for start in range(0, len(names), _DELETE_BATCH):
            batch = names[start : start + _DELETE_BATCH]
            if enabled:
                self.cloudwatch.enable_alarm_actions(AlarmNames=batch)
            else:
                self.cloudwatch.disable_alarm_actions(AlarmNames=batch)


class DashboardKeeper(msgspec.Struct):
    """One dashboard per cluster, named prefix + cluster name, marked in its first widget."""

    cloudwatch: Any
    prefix: str

    def _bodies(self, scope: str | None) -> Iterator[tuple[str, str]]:
        for page in pages(self.cloudwatch.list_dashboards, DashboardNamePrefix=self.prefix):
            for entry in page.get("DashboardEntries", []):
                name = entry["DashboardName"]
                if scope is not None and name != f"{self.prefix}{scope}":
                    continue
                try:
                    body = self.cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
                except ClientError as error:
                    if error_code(error) not in _GONE:
                        raise
                    continue  # deleted by a concurrent sync since the listing
                if DASHBOARD_MARKER in body:
                    yield name, body

    def sync(self, wanted: Mapping[str, str], *, scope: str | None, dry_run: bool) -> Sync:
        existing = dict(self._bodies(scope))
        created, updated, deleted = _plan(
            wanted, existing, lambda current, body: json.loads(current) == json.loads(body)
        )
        if not dry_run:
            for name in created + updated:
                self.cloudwatch.put_dashboard(DashboardName=name, DashboardBody=wanted[name])
            if deleted:
                _delete_all(self.cloudwatch.delete_dashboards, "DashboardNames", deleted)
        return Sync(created, updated, deleted, len(wanted) - len(created) - len(updated))


def _filter_cluster(name: str, prefix: str) -> str | None:
    """The cluster of a filter named prefix + cluster + "-log-" + one of our filter ids."""
    for unit in LOG_FILTERS:
        suffix = f"-log-{unit.id}"
        if name.startswith(prefix) and name.endswith(suffix):
            return name[len(prefix) : -len(suffix)]
    return None


class LogFilterKeeper(msgspec.Struct):
    """Metric filters named prefix + cluster + "-log-" + id whose metrics are in our namespace,
    in whichever log groups the clusters deliver to (a cluster may have moved its logs)."""

    logs: Any
    prefix: str

    def existing(self, scope: str | None) -> dict[str, Mapping[str, Any]]:
        """Our filters by "log group|filter name"."""
        found: dict[str, Mapping[str, Any]] = {}
        for page in _logs_pages(self.logs.describe_metric_filters):
            for metric_filter in page.get("metricFilters", []):
                name = metric_filter["filterName"]
                transforms = metric_filter.get("metricTransformations", [])
                cluster = _filter_cluster(name, self.prefix)
                ours = cluster is not None and all(
                    t["metricNamespace"].startswith(f"{LOG_NAMESPACE}/") for t in transforms
                )
                if ours and transforms and _in_scope(cluster, scope):
                    found[f"{metric_filter['logGroupName']}|{name}"] = metric_filter
        return found

    def sync(
        self,
        wanted: Mapping[str, dict[str, Any]],
        existing: Mapping[str, Mapping[str, Any]],
        *,
        dry_run: bool,
    ) -> tuple[Sync, list[str]]:
        """Returns the sync and the log groups that no longer exist (their filters are skipped)."""
        keyed = {f"{r['logGroupName']}|{r['filterName']}": r for r in wanted.values()}

        def same(current: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
            transforms = [
                {k: t[k] for k in ("metricName", "metricNamespace", "metricValue")}
                for t in current.get("metricTransformations", [])
            ]
            pattern: str = request["filterPattern"]
            return current.get("filterPattern") == pattern and transforms == list(
                request["metricTransformations"]
            )

        created, updated, deleted = _plan(keyed, existing, same)
        missing: set[str] = set()
        if not dry_run:
            for key in created + updated:
                request = keyed[key]
                if request["logGroupName"] in missing:
                    continue
                try:
                    self.logs.put_metric_filter(**request)
                except ClientError as error:
                    if error_code(error) != "ResourceNotFoundException":
                        raise
                    missing.add(request["logGroupName"])
            for key in deleted:
                group, name = key.split("|", 1)
                try:
                    self.logs.delete_metric_filter(logGroupName=group, filterName=name)
                except ClientError as error:
                    if error_code(error) not in _GONE:
                        raise
        if missing:
            logger.warning("broker log groups missing", extra={"log_groups": sorted(missing)})
            created = [k for k in created if keyed[k]["logGroupName"] not in missing]
            updated = [k for k in updated if keyed[k]["logGroupName"] not in missing]
        names = {key: key.split("|", 1)[1] for key in [*keyed, *existing]}
        sync = Sync(
            [names[k] for k in created],
            [names[k] for k in updated],
            [names[k] for k in deleted],
            len(keyed) - len(created) - len(updated),
        )
        return sync, sorted(missing)


class QueryKeeper(msgspec.Struct):
    """Logs Insights query definitions named prefix + cluster + "/" + id."""

    logs: Any
    prefix: str

    def _existing(self, scope: str | None) -> dict[str, list[Mapping[str, Any]]]:
        found: dict[str, list[Mapping[str, Any]]] = {}
        listing = _logs_pages(
            self.logs.describe_query_definitions, queryDefinitionNamePrefix=self.prefix
        )
        for page in listing:
            for definition in page.get("queryDefinitions", []):
                name = definition["name"]
                cluster = name.removeprefix(self.prefix).split("/", 1)[0]
                if name.startswith(self.prefix) and "/" in name and _in_scope(cluster, scope):
                    found.setdefault(name, []).append(definition)
        return found

    def sync(
        self, wanted: Mapping[str, dict[str, Any]], *, scope: str | None, dry_run: bool
    ) -> Sync:
        existing = self._existing(scope)
        # Concurrent first syncs may both create a definition: keep the lowest id, delete others.
        duplicates = [
            d["queryDefinitionId"]
            for name, found in existing.items()
            for d in sorted(found, key=lambda d: str(d["queryDefinitionId"]))[1:]
        ]
        kept = {
            name: min(found, key=lambda d: str(d["queryDefinitionId"]))
            for name, found in existing.items()
        }

        def same(current: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
            return current.get("queryString") == request["queryString"] and list(
                current.get("logGroupNames", [])
            ) == list(request["logGroupNames"])

        created, updated, deleted = _plan(wanted, kept, same)
        if not dry_run:
            for name in created:
                self.logs.put_query_definition(**wanted[name])
            for name in updated:
                identity = kept[name]["queryDefinitionId"]
                self.logs.put_query_definition(**wanted[name], queryDefinitionId=identity)
            gone = [kept[name]["queryDefinitionId"] for name in deleted] + duplicates
            for identity in gone:
                try:
                    self.logs.delete_query_definition(queryDefinitionId=identity)
                except ClientError as error:
                    if error_code(error) not in _GONE:  # a concurrent sync deleted it first
                        raise
        return Sync(created, updated, deleted, len(wanted) - len(created) - len(updated))
