"""What MSK offers: Apache Kafka versions, broker instance types and their storage limits."""

import re

# (version, status) in MSK's order. ".kraft" versions run KRaft controllers instead of ZooKeeper;
# "2.8.2.tiered" is the ZooKeeper line with tiered storage.
KAFKA_VERSIONS: tuple[tuple[str, str], ...] = (
    ("1.1.1", "DEPRECATED"),
    ("2.1.0", "DEPRECATED"),
    ("2.2.1", "DEPRECATED"),
    ("2.3.1", "DEPRECATED"),
    ("2.4.1", "DEPRECATED"),
    ("2.4.1.1", "DEPRECATED"),
    ("2.5.1", "DEPRECATED"),
    ("2.6.0", "DEPRECATED"),
    ("2.6.1", "DEPRECATED"),
    ("2.6.2", "DEPRECATED"),
    ("2.6.3", "DEPRECATED"),
    ("2.7.0", "DEPRECATED"),
    ("2.7.1", "DEPRECATED"),
    ("2.7.2", "DEPRECATED"),
    ("2.8.0", "DEPRECATED"),
    ("2.8.1", "DEPRECATED"),
    ("2.8.2.tiered", "ACTIVE"),
    ("3.1.1", "DEPRECATED"),
    ("3.2.0", "DEPRECATED"),
    ("3.3.1", "ACTIVE"),
    ("3.3.2", "ACTIVE"),
    ("3.4.0", "ACTIVE"),
    ("3.5.1", "ACTIVE"),
    ("3.6.0", "ACTIVE"),
    ("3.7.x", "ACTIVE"),
    ("3.7.x.kraft", "ACTIVE"),
    ("3.8.x", "ACTIVE"),
    ("3.8.x.kraft", "ACTIVE"),
    ("3.9.x", "ACTIVE"),
    ("3.9.x.kraft", "ACTIVE"),
    ("4.0.x.kraft", "ACTIVE"),
)
KAFKA_VERSION_STATUS = dict(KAFKA_VERSIONS)
ACTIVE_KAFKA_VERSIONS = tuple(version for version, status in KAFKA_VERSIONS if status == "ACTIVE")

# Public access needs Apache Kafka 2.6.0 or later (msk-cluster-public-access).
PUBLIC_ACCESS_MIN_VERSION = (2, 6, 0)
# Tiered storage: 2.8.2.tiered and 3.6.0 or later.
TIERED_STORAGE_MIN_VERSION = (3, 6, 0)

_VERSION_PART = re.compile(r"^(\d+)\.(\d+)\.(\d+|x)")


def version_key(version: str) -> tuple[int, int, int]:
    """Sortable (major, minor, patch); an "x" patch sorts above every numbered patch."""
    match = _VERSION_PART.match(version)
    if match is None:
        return (0, 0, 0)
    major, minor, patch = match.groups()
    return (int(major), int(minor), 1_000_000 if patch == "x" else int(patch))


def is_kraft(version: str) -> bool:
    return version.endswith(".kraft")


def supports_tiered_storage(version: str) -> bool:
    return version == "2.8.2.tiered" or version_key(version) >= TIERED_STORAGE_MIN_VERSION


def upgrade_targets(version: str) -> list[str]:
    """Active versions a cluster on ``version`` can be upgraded to: higher, same metadata mode."""
    return [
        target
        for target in ACTIVE_KAFKA_VERSIONS
        if version_key(target) > version_key(version) and is_kraft(target) == is_kraft(version)
    ]


_STANDARD_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
STANDARD_INSTANCE_TYPES: tuple[str, ...] = (
    "kafka.t3.small",
    *(f"kafka.m5.{size}" for size in (*_STANDARD_SIZES, "24xlarge")),
    *(f"kafka.m7g.{size}" for size in _STANDARD_SIZES),
)
EXPRESS_INSTANCE_TYPES: tuple[str, ...] = tuple(f"express.m7g.{size}" for size in _STANDARD_SIZES)
INSTANCE_TYPES = STANDARD_INSTANCE_TYPES + EXPRESS_INSTANCE_TYPES

# Maximum provisioned storage throughput in MiB/s; types not listed cannot provision it.
PROVISIONED_THROUGHPUT_MAX: dict[str, float] = {
    "kafka.m5.4xlarge": 593,
    "kafka.m5.8xlarge": 850,
    "kafka.m5.12xlarge": 1000,
    "kafka.m5.16xlarge": 1000,
    "kafka.m5.24xlarge": 1000,
    "kafka.m7g.2xlarge": 312.5,
    "kafka.m7g.4xlarge": 625,
    "kafka.m7g.8xlarge": 1000,
    "kafka.m7g.12xlarge": 1000,
    "kafka.m7g.16xlarge": 1000,
}

MAX_VOLUME_SIZE_GIB = 16384
MIN_STORAGE_INCREASE_GIB = 10
DEFAULT_VOLUME_SIZE_GIB = 1000


def is_express(instance_type: str) -> bool:
    return instance_type.startswith("express.")
