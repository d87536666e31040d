"""EventBridge rules whose targets include a Lambda function, as the deployed stack's are.

moto delivers to queues, log groups and buses, and raises NotImplementedError for a function.
Lambda runs no code in the emulator: the local tools invoke each handler from the working tree
themselves (`invoke`, the demo), so a rule's Lambda targets are passed over and its other targets
still receive the event.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.events.models import Rule

__all__ = ["install_event_targets"]


def _is_function(target: dict[str, Any]) -> bool:
    return str(target.get("Arn", "")).split(":")[2:3] == ["lambda"]


def install_event_targets() -> None:
    """Idempotent."""
    original = Rule.send_to_targets
    if getattr(original, "_msk_autopilot", False):
        return

    def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
        if not any(_is_function(target) for target in self.targets):
            original(self, original_event, transform_input)
            return
        delivered = copy.copy(self)  # the same rule without its function targets
        delivered.targets = [target for target in self.targets if not _is_function(target)]
        original(delivered, original_event, transform_input)

    send_to_targets._msk_autopilot = True  # type: ignore[attr-defined]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
