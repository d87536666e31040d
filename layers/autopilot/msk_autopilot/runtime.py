"""The Lambda entry wrapper every handler uses: parse, log, count, shape the result.

An invalid or unsupported event is *rejected*: logged with its reason, counted, and answered
with a typed result, never raised, because raising would make Lambda retry an event that can
never succeed (a retry storm). Any other exception is logged and re-raised so that Lambda's
bounded retries and the dead-letter destination take over: nothing is lost silently.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from msk_autopilot import coldstart
from msk_autopilot.events import InvalidEventError
from msk_autopilot.observability import MetricUnit, logger, metrics, tracer
from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.settings import CommonSettings, SettingsError

__all__ = ["LambdaContext", "LambdaHandler", "Result", "lambda_entry", "load_callable"]


class Result(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


type LambdaHandler = Callable[[Any, LambdaContext], dict[str, Any]]


def lambda_entry[E](
    parse: Callable[[object], E],
    *,
    settings: CommonSettings,
    correlation_id_path: str | None = None,
) -> Callable[[Callable[[E, LambdaContext], Result]], LambdaHandler]:
    """Wrap `handle(event, context)` into a Lambda handler taking the raw event."""

    def decorate(handle: Callable[[E, LambdaContext], Result]) -> LambdaHandler:
        @functools.wraps(handle)
        def entry(event: Any, context: LambdaContext) -> dict[str, Any]:
            try:
                return _run(event, context)
            finally:
                coldstart.end()

        def _run(event: Any, context: LambdaContext) -> dict[str, Any]:
            try:
                parsed = parse(event)
            except InvalidEventError as error:
                logger.warning("event rejected", extra={"reason": str(error)})
                metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
                return Outcome(Status.REJECTED, str(error)).to_dict()
            try:
                result = handle(parsed, context)
            except Exception:
                logger.exception("handler failed; Lambda retries and then dead-letters the event")
                metrics.add_metric(name="HandlerErrors", unit=MetricUnit.Count, value=1)
                raise
            if isinstance(result, Outcome):
                logger.info(
                    "outcome",
                    extra={"status": result.status.value, "reason": result.reason},
                )
                metrics.add_metric(
                    name=f"Outcome.{result.status.value}", unit=MetricUnit.Count, value=1
                )
            return result.to_dict()

        wrapped: LambdaHandler = logger.inject_lambda_context(
            entry, correlation_id_path=correlation_id_path, clear_state=True
        )
        wrapped = metrics.log_metrics(wrapped, capture_cold_start_metric=True)
        if settings.tracing_enabled:
            wrapped = tracer().capture_lambda_handler(wrapped)
        return wrapped

    return decorate


def load_callable(spec: str, variable: str) -> Callable[..., Any]:
    """The function a `module:function` setting names, imported now so that a typo fails the
    cold start; a bad spec raises `SettingsError` naming `variable`."""
    module_name, _, function_name = spec.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name, None)
    except ImportError as error:
        raise SettingsError([f"{variable}={spec!r} cannot be loaded: {error}"]) from None
    if not callable(function):
        raise SettingsError([f"{variable}={spec!r} does not name a function"])
    loaded: Callable[..., Any] = function
    return loaded
