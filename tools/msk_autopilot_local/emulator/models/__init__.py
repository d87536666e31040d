"""``MskBackend``, moto's kafka backend extended to the MSK control plane, and its resources.

A provisioned cluster keeps its changeable settings in one dict keyed like botocore's
``MutableClusterInfo`` (InstanceType, NumberOfBrokerNodes, BrokerEBSVolumeInfo, ...). An update
validates its request completely, snapshots the affected keys as the operation's source, stores
the new values as its target and only writes them into the cluster when the operation completes,
the way DescribeCluster shows the old values until MSK finishes an update.

Time comes from the emulator clock. Nothing runs in the background: every request first moves
this backend's clusters and operations forward to "now" (``advance_lifecycle``).

The backend is one mixin per concern, each in its own module, on the shared state of
``base.MskBackendBase``; the resources are in ``records``. ``MskBackend`` itself must be defined
here, in the module named ``models``: moto's ``BaseBackend.urls`` finds the routes by turning the
backend class's module name ``...emulator.models`` into ``...emulator.urls``, the same way it does
for moto's own services.
"""

from .capacity import CapacityMixin
from .clusters import ClustersMixin
from .nodes import NodesMixin
from .policy import ClusterPolicyMixin
from .records import (
    Broker,
    ClusterOperation,
    ConfigurationRevision,
    MskCluster,
    MskConfiguration,
    Topic,
)
from .scram import ScramMixin
from .tags import TagsMixin

__all__ = [
    "Broker",
    "ClusterOperation",
    "ConfigurationRevision",
    "MskBackend",
    "MskCluster",
    "MskConfiguration",
    "Topic",
]


class MskBackend(
    ClustersMixin, CapacityMixin, ScramMixin, NodesMixin, ClusterPolicyMixin, TagsMixin
):
    """moto's kafka backend with the rest of the MSK control plane, per account and Region."""
