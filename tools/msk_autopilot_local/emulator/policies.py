"""Policy conditions evaluated as AWS does: a condition on a key the request does not carry does
not hold (except `...IfExists` and `Null`), so its statement does not apply.

moto treats such a condition as met, so the template's bucket policies (Deny s3:* when
aws:SecureTransport is "false") refused every request once the stack was deployed. moto's
requests carry no aws:SecureTransport: locally that Deny never applies, as it does not to a TLS
request in AWS (the template tests check the policy itself).
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult

__all__ = ["install_policy_conditions"]


def _absent_keys_hold(operator: str) -> bool:
    return operator == "Null" or operator.endswith("IfExists")


def install_policy_conditions() -> None:
    """Idempotent."""
    original = IAMPolicyStatement.is_action_permitted
    if getattr(original, "_msk_autopilot", False):
        return

    def is_action_permitted(
        self: IAMPolicyStatement,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> PermissionResult:
        conditions: dict[str, dict[str, Any]] = self._statement.get("Condition") or {}
        carried = incoming_condition_values or {}
        for operator, values in conditions.items():
            if not _absent_keys_hold(operator) and any(key not in carried for key in values):
                return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    is_action_permitted._msk_autopilot = True  # type: ignore[attr-defined]
    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]
