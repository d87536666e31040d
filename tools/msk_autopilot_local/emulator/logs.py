"""CloudWatch Logs Insights query definitions, which moto lacks, and PutMetricFilter as CloudWatch
Logs behaves, added to moto's CloudWatch Logs.

moto 5.2 has no PutQueryDefinition, DescribeQueryDefinitions or DeleteQueryDefinition. CloudWatch
Logs (API reference of each):

- PutQueryDefinition creates a definition and answers its ``queryDefinitionId``; with the id of an
  existing one it replaces that one's name, query string and log groups; an unknown id is
  ResourceNotFoundException;
- DescribeQueryDefinitions lists them (``queryDefinitionNamePrefix`` filters by name), each with
  ``queryDefinitionId``, ``name``, ``queryString``, ``lastModified`` (epoch milliseconds),
  ``logGroupNames`` and ``queryLanguage``, ``maxResults`` per page (at most 1000) with
  ``nextToken``;
- DeleteQueryDefinition answers ``{"success": true}``; an unknown id is ResourceNotFoundException.

moto's PutMetricFilter appends a second filter when a filter of the same name is put again on a
log group, and accepts a log group that does not exist; CloudWatch Logs replaces the filter and
refuses an unknown log group, and answers each filter with its ``creationTime``.

botocore validates the requests before they are sent, in process and against the server.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.models import LogsBackend
from moto.logs.responses import LogsResponse

__all__ = ["install_logs_additions"]

_QUERY_DEFINITIONS = "_emulator_query_definitions"
_DEFAULT_PAGE = 1000


@dataclass
class QueryDefinition:
    query_definition_id: str
    name: str
    query_string: str
    log_group_names: list[str]
    query_language: str
    last_modified: int  # epoch milliseconds

    def describe(self) -> dict[str, Any]:
        return {
            "queryDefinitionId": self.query_definition_id,
            "name": self.name,
            "queryString": self.query_string,
            "logGroupNames": list(self.log_group_names),
            "queryLanguage": self.query_language,
            "lastModified": self.last_modified,
        }


def _definitions(backend: LogsBackend) -> dict[str, QueryDefinition]:
    # Kept on the backend itself, so moto's reset (a new backend) empties them.
    definitions: dict[str, QueryDefinition] = backend.__dict__.setdefault(_QUERY_DEFINITIONS, {})
    return definitions


def _not_found(query_definition_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Query definition {query_definition_id} does not exist.")


def _put_query_definition(self: LogsResponse) -> str:
    definitions = _definitions(self.logs_backend)
    given_id = self._get_param("queryDefinitionId")
    if given_id is not None and given_id not in definitions:
        raise _not_found(given_id)
    query_definition_id = given_id or str(uuid.uuid4())
    definitions[query_definition_id] = QueryDefinition(
        query_definition_id=query_definition_id,
        name=self._get_param("name"),
        query_string=self._get_param("queryString"),
        log_group_names=list(self._get_param("logGroupNames") or []),
        query_language=self._get_param("queryLanguage") or "CWLI",
        last_modified=int(time.time() * 1000),
    )
    return json.dumps({"queryDefinitionId": query_definition_id})


def _describe_query_definitions(self: LogsResponse) -> str:
    prefix = self._get_param("queryDefinitionNamePrefix") or ""
    language = self._get_param("queryLanguage")
    matching = sorted(
        (
            definition
            for definition in _definitions(self.logs_backend).values()
            if definition.name.startswith(prefix)
            and (language is None or definition.query_language == language)
        ),
        key=lambda definition: (definition.name, definition.query_definition_id),
    )
    start = int(self._get_param("nextToken") or 0)
    end = start + int(self._get_param("maxResults") or _DEFAULT_PAGE)
    answer: dict[str, Any] = {"queryDefinitions": [d.describe() for d in matching[start:end]]}
    if end < len(matching):
        answer["nextToken"] = str(end)
    return json.dumps(answer)


def _delete_query_definition(self: LogsResponse) -> str:
    query_definition_id = self._get_param("queryDefinitionId")
    if _definitions(self.logs_backend).pop(query_definition_id, None) is None:
        raise _not_found(query_definition_id)
    return json.dumps({"success": True})


type PutMetricFilter = Callable[[LogsBackend, str, str, str, Any], None]


def _replacing_filter(original: PutMetricFilter) -> PutMetricFilter:
    def put_metric_filter(
        self: LogsBackend,
        filter_name: str,
        filter_pattern: str,
        log_group_name: str,
        metric_transformations: Any,
    ) -> None:
        if log_group_name not in self.groups:
            raise ResourceNotFoundException()
        self.filters.delete_filter(filter_name, log_group_name)
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)
        self.filters.metric_filters[-1]["creationTime"] = int(time.time() * 1000)

    put_metric_filter.replaces = True  # type: ignore[attr-defined]
    return put_metric_filter


def install_logs_additions() -> None:
    """Give moto's CloudWatch Logs query definitions and a faithful PutMetricFilter, in this
    process, from now on. Idempotent."""
    LogsResponse.put_query_definition = _put_query_definition  # type: ignore[attr-defined]
    LogsResponse.describe_query_definitions = _describe_query_definitions  # type: ignore[attr-defined]
    LogsResponse.delete_query_definition = _delete_query_definition  # type: ignore[attr-defined]
    if not getattr(LogsBackend.put_metric_filter, "replaces", False):
        LogsBackend.put_metric_filter = _replacing_filter(  # type: ignore[method-assign, assignment]
            LogsBackend.put_metric_filter
        )
