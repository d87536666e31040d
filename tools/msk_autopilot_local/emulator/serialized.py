"""One emulated request at a time.

AWS answers concurrent requests consistently; moto's backends are plain dicts and lists that a
second thread can change while a first one iterates them ("dictionary changed size during
iteration"). The emulator therefore answers requests one at a time, on the emulator's lock, in
both dispatchers: the in-process botocore stubber and the server's WSGI app. The lock is
reentrant, so a request answered while the clock or an alarm action holds it still proceeds.
"""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from moto.core.botocore_stubber import BotocoreStubber

from .state import emulator_state

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialize_in_process_requests() -> None:
    """Make moto's botocore stubber answer under the emulator's lock. Idempotent."""
    answer = BotocoreStubber.process_request
    if getattr(answer, "serialized", False):
        return

    @wraps(answer)
    def serialized(self: BotocoreStubber, request: Any) -> Any:
        with emulator_state.lock:
            return answer(self, request)

    serialized.serialized = True  # type: ignore[attr-defined]
    BotocoreStubber.process_request = serialized  # type: ignore[method-assign]


class SerializedApp:
    """WSGI middleware answering one request at a time, on the emulator's lock."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with emulator_state.lock:
            # The body is read inside the lock: a lazy iterable would read the backends after it.
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
