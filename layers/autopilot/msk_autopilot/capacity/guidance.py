"""Throughput per broker each MSK size is sized for (pure).

Sources: Express sustained quotas from msk-broker-types-express.html (health.limits holds the
ingress quota; egress is twice that). AWS's documentation publishes no per-size throughput table
for Standard brokers (bestpractices.html "right-size your cluster" covers partitions and points to
sizing by test); the only per-size figures AWS publishes are those of AWS Labs' MSK MCP server
(awslabs/mcp, aws-msk-mcp-server, tools/static_tools/cluster_best_practices.py, "Ingress/Egress
Recommended (MBps)"), used here. Its Express figures equal the documented quotas; its Standard
figures are guidance, not limits MSK enforces. kafka.m5.24xlarge shares 16xlarge's figures there.
"""

from __future__ import annotations

import msgspec

from msk_autopilot.health.limits import express_ingress_quota_mbps

__all__ = ["ThroughputGuidance", "throughput_guidance"]


class ThroughputGuidance(msgspec.Struct, frozen=True):
    """Sustained MB/s per broker: for Express the quota MSK throttles at, for Standard the
    recommended load."""

    ingress_mbps: float
    egress_mbps: float


# Recommended ingress MB/s per Standard broker, by size; egress is twice that.
_STANDARD_INGRESS_MBPS = {
    "small": 4.8,
    "large": 4.8,
    "xlarge": 9.6,
    "2xlarge": 19.2,
    "4xlarge": 38.4,
    "8xlarge": 76.9,
    "12xlarge": 115.4,
    "16xlarge": 153.8,
    "24xlarge": 153.8,
}


def throughput_guidance(instance_type: str) -> ThroughputGuidance | None:
    """The sustained throughput one broker of `instance_type` is sized for, or None if unknown."""
    quota = express_ingress_quota_mbps(instance_type)
    if quota is not None:
        return ThroughputGuidance(quota, 2 * quota)
    if not instance_type.startswith("kafka."):
        return None
    ingress = _STANDARD_INGRESS_MBPS.get(instance_type.rsplit(".", 1)[1])
    return None if ingress is None else ThroughputGuidance(ingress, 2 * ingress)
