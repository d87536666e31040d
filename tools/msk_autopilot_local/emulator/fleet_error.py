"""The error of a malformed fleet spec, shared by the seed's modules."""

from msk_autopilot_local.errors import LocalToolError


class FleetError(LocalToolError, ValueError):
    """The fleet spec is malformed (an unknown key, a missing name, a bad reference)."""
