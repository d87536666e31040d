"""Storage scaler core: the pure sizing policy, shared by the Lambda function and the simulator."""

from msk_autopilot.storage import policy
from msk_autopilot.storage.policy import *  # noqa: F403  the package re-exports the policy

__all__ = policy.__all__
