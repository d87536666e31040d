"""Logger, metrics and tracer shared by every function.

Logs are JSON with the invocation's correlation id; metrics are CloudWatch EMF in the
`MskAutopilot` namespace. The X-Ray tracer costs about 300 ms of imports, so it is created only
when tracing is switched on.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

__all__ = ["METRICS_NAMESPACE", "MetricUnit", "logger", "metrics", "tracer"]

METRICS_NAMESPACE = "MskAutopilot"

# The service name (one per function) comes from POWERTOOLS_SERVICE_NAME in the template.
logger = Logger(use_rfc3339=True)
metrics = Metrics(namespace=METRICS_NAMESPACE)


@cache
def tracer() -> Tracer:
    """The X-Ray tracer, created (and its SDK imported) on first use only."""
    from aws_lambda_powertools import Tracer  # noqa: PLC0415  deferred: ~300 ms of imports

    return Tracer()
