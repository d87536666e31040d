"""Per-broker limits of MSK broker sizes that gates and alarms compare against (pure).

Sources: partitions per broker from MSK's best practices (bestpractices.html: "right-size your
cluster"), whose maximum MSK enforces on update operations (API reference of
UpdateClusterKafkaVersion); Express ingress quotas from msk-broker-types-express.html. Sizes
missing from these tables (Express partition limits among them) have no known limit: callers
treat them as "not applicable", never as a guess.
"""

from __future__ import annotations

import msgspec

__all__ = ["PartitionLimits", "express_ingress_quota_mbps", "is_express", "partition_limits"]


class PartitionLimits(msgspec.Struct, frozen=True):
    recommended: int  # per broker, replicas included
    maximum: int  # above it MSK refuses configuration, SCRAM, version and shrink operations


_T3_SMALL = PartitionLimits(300, 300)
_BY_SIZE = {
    "large": PartitionLimits(1000, 1500),
    "xlarge": PartitionLimits(1000, 1500),
    "2xlarge": PartitionLimits(2000, 3000),
}
_LARGER = PartitionLimits(4000, 6000)  # 4xlarge and every larger size
_STANDARD_FAMILIES = ("m5", "m7g")

# Sustained ingress per Express broker in MB/s (egress is twice that).
_EXPRESS_INGRESS_MB = {
    "large": 15.6,
    "xlarge": 31.2,
    "2xlarge": 62.5,
    "4xlarge": 124.9,
    "8xlarge": 250.0,
    "12xlarge": 375.0,
    "16xlarge": 500.0,
}


def is_express(instance_type: str) -> bool:
    return instance_type.startswith("express.")


def _size(instance_type: str) -> tuple[str, str] | None:
    parts = instance_type.split(".")
    if len(parts) != 3:  # kafka.<family>.<size>
        return None
    return parts[1], parts[2]


def partition_limits(instance_type: str) -> PartitionLimits | None:
    """The partition limits of a Standard broker size, or None where none is published."""
    if instance_type == "kafka.t3.small":
        return _T3_SMALL
    family_size = _size(instance_type)
    if family_size is None or not instance_type.startswith("kafka."):
        return None
    family, size = family_size
    if family not in _STANDARD_FAMILIES:
        return None
    if size in _BY_SIZE:
        return _BY_SIZE[size]
    if size.endswith("xlarge") and size[: -len("xlarge")].isdigit():
        return _LARGER
    return None


def express_ingress_quota_mbps(instance_type: str) -> float | None:
    """An Express broker's sustained ingress quota in MB/s, or None for other sizes."""
    family_size = _size(instance_type)
    if not is_express(instance_type) or family_size is None:
        return None
    return _EXPRESS_INGRESS_MB.get(family_size[1])
