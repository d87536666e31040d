"""Activation of the emulator in moto, and the Python control API (clock, settings, faults)."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from moto.kafka.models import kafka_backends

from .models import MskBackend
from .secretsmanager import install_current_version_tracking
from .securityhub import install_finding_workflow
from .state import EmulatorClock, EmulatorSettings, OperationFault, emulator_state


def install() -> None:
    """Make moto's ``kafka`` service the MSK emulator, in this process, from now on, give
    moto's Security Hub its finding workflow (``securityhub``), and make moto's Secrets Manager
    read AWSCURRENT by default after UpdateSecretVersionStage (``secretsmanager``).

    Idempotent. moto keeps one ``BackendDict`` per service and builds a backend per account and
    Region on first use, from ``BackendDict.backend``; pointing that at ``MskBackend`` is the one
    change to moto's state. Both dispatchers (the in-process botocore stubber and the server's
    Flask app) then read the routes from ``MskBackend``. Plain kafka backends created before
    ``install()`` are replaced; one that already holds moto clusters is refused rather than lost.
    """
    install_finding_workflow()
    install_current_version_tracking()
    with emulator_state.lock:
        kafka_backends.backend = MskBackend
        for account_backends in kafka_backends.values():
            account_backends.backend = MskBackend
            for region, backend in list(account_backends.items()):
                if isinstance(backend, MskBackend):
                    continue
                if backend.clusters:
                    raise RuntimeError(
                        "moto's kafka backend already holds clusters: call install() before "
                        "creating any MSK resources."
                    )
                del account_backends[region]


def _msk_backends() -> Iterator[MskBackend]:
    for account_backends in kafka_backends.values():
        for backend in account_backends.values():
            if isinstance(backend, MskBackend):
                yield backend


class EmulatorControl:
    """What a test (or the server's control endpoints) can do to the emulated world."""

    @property
    def clock(self) -> EmulatorClock:
        return emulator_state.clock

    @property
    def settings(self) -> EmulatorSettings:
        return emulator_state.settings

    def configure(self, **seconds: Any) -> dict[str, float]:
        """Change timing settings (cluster_create_seconds, operation_seconds,
        storage_cooldown_seconds); returns all settings. All values are checked before any
        is applied."""
        with emulator_state.lock:
            emulator_state.settings.update(**seconds)
            return emulator_state.settings.as_dict()

    def fail_next_operation(self, *, error_code: str, error_string: str) -> None:
        """Make the next cluster operation that starts end UPDATE_FAILED with this ErrorInfo.

        The request itself is accepted; when the operation's time is up it fails and the cluster
        returns to ACTIVE with its previous settings. Calls queue up: one fault per operation.
        """
        if not error_code or not error_string:
            raise ValueError("An injected fault needs a non-empty error code and error string.")
        with emulator_state.lock:
            emulator_state.pending_faults.append(OperationFault(error_code, error_string))

    def complete_operations(self) -> datetime:
        """Advance the clock until every cluster being created and every running operation is
        done (in every account and Region), apply the results and return the new time."""
        with emulator_state.lock:
            deadlines = [
                deadline for backend in _msk_backends() for deadline in backend.pending_deadlines()
            ]
            if deadlines:
                emulator_state.clock.advance_to(max(deadlines))
            for backend in _msk_backends():
                backend.advance_lifecycle()
            return emulator_state.clock.now()

    def reset(self) -> None:
        """Back to a fresh emulator: real time, default settings, no pending faults and no MSK
        resources. Other services' moto state (KMS keys, secrets, metrics) is left alone."""
        with emulator_state.lock:
            emulator_state.reset()
            for account_backends in kafka_backends.values():
                account_backends.reset()


control = EmulatorControl()
