"""moto's threaded server with the MSK emulator and its HTTP control endpoints."""

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import msgspec
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .alarm_actions import act
from .alarms import evaluate_alarms
from .control import control, install
from .health import set_cluster_health
from .serialized import SerializedApp, WsgiApp

CONTROL_PREFIX = "/_msk_emulator"
# HTTP names of the settings (camelCase, like the AWS JSON APIs) -> EmulatorSettings fields.
SETTING_NAMES = {
    "clusterCreateSeconds": "cluster_create_seconds",
    "connectorCreateSeconds": "connector_create_seconds",
    "operationSeconds": "operation_seconds",
    "storageCooldownSeconds": "storage_cooldown_seconds",
}

# HTTP names of set_broker_load's values.
LOAD_VALUE_NAMES = {
    "cpuUser": "cpu_user",
    "cpuSystem": "cpu_system",
    "bytesIn": "bytes_in",
    "bytesOut": "bytes_out",
    "replicationBytesIn": "replication_bytes_in",
    "produceThrottleMs": "produce_throttle_ms",
    "fetchThrottleMs": "fetch_throttle_ms",
}


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlEndpoints:
    """WSGI middleware answering ``/_msk_emulator/...`` and passing everything else to moto."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
            ("GET", "/clock"): lambda _: self._now(),
            ("POST", "/clock/advance"): self._advance_clock,
            ("POST", "/operations/complete"): self._complete_operations,
            ("POST", "/faults/next-operation"): self._fail_next_operation,
            ("GET", "/settings"): lambda _: self._settings(),
            ("POST", "/settings"): self._configure,
            ("POST", "/reset"): self._reset,
            ("POST", "/alarms/evaluate"): self._evaluate_alarms,
            ("POST", "/clusters/health"): self._set_cluster_health,
            ("POST", "/clusters/load"): self._set_broker_load,
            ("POST", "/topics/bytes"): self._set_partition_bytes,
            ("POST", "/topics/out-of-sync"): self._set_out_of_sync,
            ("POST", "/clusters/maintenance"): self._start_maintenance,
            ("POST", "/clusters/customer-action-status"): self._set_customer_action_status,
        }

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path != CONTROL_PREFIX and not path.startswith(CONTROL_PREFIX + "/"):
            return self.app(environ, start_response)
        request = Request(environ)
        try:
            payload = self._dispatch(request, path.removeprefix(CONTROL_PREFIX))
            status = 200
        except ControlError as error:
            payload, status = {"message": str(error)}, error.status
        response = Response(json.dumps(payload), status=status, mimetype="application/json")
        return response(environ, start_response)

    def _dispatch(self, request: Request, route: str) -> dict[str, Any]:
        handler = self.routes.get((request.method, route))
        if handler is None:
            if any(path == route for _, path in self.routes):
                raise ControlError(
                    405, f"{request.method} is not allowed on {CONTROL_PREFIX}{route}."
                )
            raise ControlError(404, f"No emulator control endpoint {CONTROL_PREFIX}{route}.")
        body = request.get_data()
        try:
            document = json.loads(body) if body.strip() else {}
        except ValueError:
            raise ControlError(400, "The request body is not valid JSON.") from None
        if not isinstance(document, dict):
            raise ControlError(400, "The request body must be a JSON object.")
        try:
            return handler(document)
        except (TypeError, ValueError) as error:
            raise ControlError(400, str(error)) from None

    @staticmethod
    def _now() -> dict[str, Any]:
        return {"now": control.clock.now().isoformat()}

    @staticmethod
    def _settings() -> dict[str, Any]:
        values = control.settings.as_dict()
        return {http_name: values[field] for http_name, field in SETTING_NAMES.items()}

    def _advance_clock(self, document: dict[str, Any]) -> dict[str, Any]:
        seconds = document.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ControlError(400, 'Send {"seconds": N} with a non-negative number N.')
        control.clock.advance(seconds)
        return self._now()

    def _complete_operations(self, _: dict[str, Any]) -> dict[str, Any]:
        control.complete_operations()
        return self._now()

    @staticmethod
    def _fail_next_operation(document: dict[str, Any]) -> dict[str, Any]:
        error_code, error_string = document.get("errorCode"), document.get("errorString")
        if not isinstance(error_code, str) or not isinstance(error_string, str):
            raise ControlError(400, 'Send {"errorCode": "...", "errorString": "..."} as strings.')
        control.fail_next_operation(error_code=error_code, error_string=error_string)
        return {}

    def _configure(self, document: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(document) - set(SETTING_NAMES))
        if unknown:
            raise ValueError(
                f"Unknown settings: {', '.join(unknown)}. Known: {', '.join(SETTING_NAMES)}."
            )
        control.configure(**{SETTING_NAMES[name]: value for name, value in document.items()})
        return self._settings()

    @staticmethod
    def _evaluate_alarms(document: dict[str, Any]) -> dict[str, Any]:
        region = document.get("region")
        account = document.get("account", DEFAULT_ACCOUNT_ID)
        prefix = document.get("alarmNamePrefix", "")
        if not (
            isinstance(region, str)
            and region
            and isinstance(account, str)
            and account
            and isinstance(prefix, str)
        ):
            raise ControlError(
                400,
                'Send {"region": "..."}, optionally "account" and "alarmNamePrefix", as strings.',
            )
        transitions = evaluate_alarms(region=region, account_id=account, name_prefix=prefix)
        act(transitions, account_id=account, region=region)
        return {"transitions": [transition.to_dict() for transition in transitions]}

    @staticmethod
    def _set_cluster_health(document: dict[str, Any]) -> dict[str, Any]:
        values = dict(document)
        cluster_arn, broker = values.pop("clusterArn", None), values.pop("broker", None)
        if not isinstance(cluster_arn, str) or not (
            broker is None or (isinstance(broker, int) and not isinstance(broker, bool))
        ):
            raise ControlError(
                400,
                'Send {"clusterArn": "...", "cpuUser": 70, ...}, optionally "broker": N, '
                "with health values in camelCase.",
            )
        health = set_cluster_health(cluster_arn, values, broker)
        return {"health": msgspec.to_builtins(health)}

    @staticmethod
    def _set_broker_load(document: dict[str, Any]) -> dict[str, Any]:
        values = dict(document)
        cluster_arn, broker = values.pop("clusterArn", None), values.pop("broker", None)
        since, step = values.pop("sinceHours", 14 * 24), values.pop("stepMinutes", 60)
        if not isinstance(cluster_arn, str) or not all(
            isinstance(n, int | float) and not isinstance(n, bool) for n in (since, step)
        ):
            raise ControlError(
                400,
                'Send {"clusterArn": "...", "cpuUser": 70 or [..], ...}, optionally "broker": N, '
                '"sinceHours": H and "stepMinutes": M, with load values in camelCase '
                "(cpuUser, cpuSystem, bytesIn, bytesOut, produceThrottleMs, fetchThrottleMs).",
            )
        names = LOAD_VALUE_NAMES
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ControlError(400, f"Unknown load values: {', '.join(unknown)}.")
        written = control.set_broker_load(
            cluster_arn,
            broker=broker,
            since=timedelta(hours=since),
            step=timedelta(minutes=step),
            **{names[name]: value for name, value in values.items()},
        )
        return {"points": written}

    @staticmethod
    def _set_partition_bytes(document: dict[str, Any]) -> dict[str, Any]:
        cluster_arn, topic = document.get("clusterArn"), document.get("topic")
        size = document.get("bytesPerPartition")
        if not (isinstance(cluster_arn, str) and isinstance(topic, str) and isinstance(size, int)):
            raise ControlError(
                400, 'Send {"clusterArn": "...", "topic": "...", "bytesPerPartition": N}.'
            )
        control.set_partition_bytes(cluster_arn, topic, size)
        return {}

    @staticmethod
    def _set_out_of_sync(document: dict[str, Any]) -> dict[str, Any]:
        cluster_arn, topic = document.get("clusterArn"), document.get("topic")
        partition, brokers = document.get("partition"), document.get("brokers")
        if not (
            isinstance(cluster_arn, str)
            and isinstance(topic, str)
            and isinstance(partition, int)
            and isinstance(brokers, list)
            and all(isinstance(b, int) and not isinstance(b, bool) for b in brokers)
        ):
            raise ControlError(
                400,
                'Send {"clusterArn": "...", "topic": "...", "partition": N, "brokers": [IDs]}.',
            )
        return {"isr": control.set_out_of_sync(cluster_arn, topic, partition, brokers)}

    @staticmethod
    def _start_maintenance(document: dict[str, Any]) -> dict[str, Any]:
        cluster_arn = document.get("clusterArn")
        if not isinstance(cluster_arn, str) or set(document) - {"clusterArn", "seconds"}:
            raise ControlError(400, 'Send {"clusterArn": "..."}, optionally "seconds": N.')
        operation_arn = control.start_maintenance(cluster_arn, seconds=document.get("seconds"))
        return {"clusterOperationArn": operation_arn}

    @staticmethod
    def _set_customer_action_status(document: dict[str, Any]) -> dict[str, Any]:
        cluster_arn, status = document.get("clusterArn"), document.get("status")
        if not isinstance(cluster_arn, str) or not isinstance(status, str):
            raise ControlError(400, 'Send {"clusterArn": "...", "status": "..."} as strings.')
        control.set_customer_action_status(cluster_arn, status)
        return {}

    @staticmethod
    def _reset(_: dict[str, Any]) -> dict[str, Any]:
        control.reset()
        return {}


class AnswerClock:
    """WSGI middleware counting the requests the server answers and the time it spends on
    them: a benchmark can then tell a caller's own time from the time it waited for local AWS."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._requests = 0
        self._seconds = 0.0
        self._lock = threading.Lock()

    def read(self) -> tuple[int, float]:
        """Requests answered and seconds spent answering them."""
        with self._lock:
            return self._requests, self._seconds

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._requests += 1
                self._seconds += time.perf_counter() - started


class _EmulatorMotoServer(ThreadedMotoServer):
    answer_clock: AnswerClock

    # ThreadedMotoServer builds its WSGI app inside _server_entry and offers no other hook, so
    # this override repeats its three steps with the app wrapped in ControlEndpoints.
    def _server_entry(self) -> None:
        app = self.answer_clock = AnswerClock(
            SerializedApp(ControlEndpoints(DomainDispatcherApplication(create_backend_app)))
        )
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class EmulatorServer:
    """A running emulator server: ``endpoint_url`` for boto3, ``stop()`` to shut it down."""

    def __init__(self, server: _EmulatorMotoServer) -> None:
        self._server = server
        self.host, self.port = server.get_host_and_port()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def answered(self) -> tuple[int, float]:
        """Requests answered since the server started, and seconds spent answering them."""
        return self._server.answer_clock.read()

    def reset(self) -> None:
        """An empty account: every moto service and the emulator (clock, settings, faults).

        moto's state belongs to the process, not to a server, so this empties it for every user
        in the process, as ``POST /moto-api/reset`` does."""
        moto_api_backend.reset()
        control.reset()

    def stop(self) -> None:
        self._server.stop()


def start_server(port: int = 0, host: str = "127.0.0.1") -> EmulatorServer:
    """Serve every moto service, with the MSK emulator, on ``host:port`` in a daemon thread.

    Port 0 picks a free port (read it from ``.port`` / ``.endpoint_url``).
    """
    install()
    server = _EmulatorMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return EmulatorServer(server)
