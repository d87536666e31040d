"""What MSK offers: Apache Kafka versions, broker instance types and their storage limits.

The versions are the core's catalogue (``msk_autopilot.versions.catalogue.BUILT_IN``: names,
KRaft or not, end-of-support dates) and the broker sizes the core's ladders
(``msk_autopilot.capacity.sizes``), so the emulator and the planner cannot drift apart. Which
ones are DEPRECATED follows the emulator's clock: a version is past support from its
end-of-support date on, as ListKafkaVersions shows it.
"""

from datetime import date

from msk_autopilot.capacity.sizes import (
    EXPRESS_INSTANCE_TYPES,
    INSTANCE_TYPES,
    STANDARD_INSTANCE_TYPES,
    is_express,
)
from msk_autopilot.versions.catalogue import BUILT_IN, is_kraft, version_key

from .state import emulator_state

__all__ = [
    "EXPRESS_INSTANCE_TYPES",
    "INSTANCE_TYPES",
    "STANDARD_INSTANCE_TYPES",
    "is_express",
]

ACTIVE = "ACTIVE"
DEPRECATED = "DEPRECATED"

# Public access needs Apache Kafka 2.6.0 or later (msk-cluster-public-access).
PUBLIC_ACCESS_MIN_VERSION = (2, 6, 0)
# Tiered storage: 2.8.2.tiered and 3.6.0 or later.
TIERED_STORAGE_MIN_VERSION = (3, 6, 0)

# The topic APIs: provisioned clusters on 3.6 or later (msk-topic-operations-information.html).
TOPIC_APIS_MIN_VERSION = (3, 6, 0)
# Removing brokers: 2.8.1 or later, M5 and M7g (and Express) brokers (msk-remove-broker.html).
BROKER_REMOVAL_MIN_VERSION = (2, 8, 1)

# ZooKeeper to KRaft in place: only from 3.9.x, to the KRaft build of the same line
# (zk-to-kraft-migration.html: "If your cluster is on an older version, upgrade to 3.9.x first";
# Kafka 4.x has no ZooKeeper mode, so the migration happens on the 3.9 bridge release).
KRAFT_MIGRATIONS = {"3.9.x": "3.9.x.kraft"}


def kafka_versions(today: date) -> list[tuple[str, str]]:
    """ListKafkaVersions on ``today``: every version of the core's catalogue, in MSK's order,
    DEPRECATED from its end-of-support date on, ACTIVE before (or when none is published)."""
    return [
        (name, DEPRECATED if entry.end_of_support and entry.end_of_support <= today else ACTIVE)
        for name, entry in BUILT_IN.items()
    ]


def today() -> date:
    """The emulator clock's day (UTC), on which version support is judged."""
    return emulator_state.clock.now().date()


def version_status(version: str) -> str | None:
    """ACTIVE or DEPRECATED on the emulator's day; None for a version MSK never offered."""
    return dict(kafka_versions(today())).get(version)


def active_versions() -> list[str]:
    """The versions MSK offers on the emulator's day: the only ones a cluster can be created
    on or upgraded to."""
    return [name for name, status in kafka_versions(today()) if status == ACTIVE]


def supports_tiered_storage(version: str) -> bool:
    return version == "2.8.2.tiered" or version_key(version) >= TIERED_STORAGE_MIN_VERSION


def is_downgrade(source: str, target: str) -> bool:
    """An older version, or ZooKeeper from KRaft: MSK never moves a cluster back."""
    return version_key(target) < version_key(source) or (is_kraft(source) and not is_kraft(target))


def upgrade_targets(version: str) -> list[str]:
    """GetCompatibleKafkaVersions for a cluster on ``version``: offered versions newer than it
    in its metadata mode (no downgrade, KRaft never back to ZooKeeper), and from a ZooKeeper
    version listed in KRAFT_MIGRATIONS its KRaft build. So a ZooKeeper cluster reaches the
    KRaft line in several hops: 3.6.0 -> 3.9.x -> 3.9.x.kraft -> 4.1.x.kraft."""
    return [
        target
        for target in active_versions()
        if (is_kraft(target) == is_kraft(version) and version_key(target) > version_key(version))
        or KRAFT_MIGRATIONS.get(version) == target
    ]


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
