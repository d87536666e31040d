"""What every part of ``MskBackend`` shares: the MSK resources of one account and Region, the
lookups that turn an ARN into one of them, and the cluster version tokens."""

import re
import string
from collections import Counter

from moto.kafka.models import KafkaBackend
from moto.moto_api._internal import mock_random

from ..exceptions import BadRequestException, NotFoundException
from .records import ClusterOperation, MskCluster, MskConfiguration

# The service writes a typographic apostrophe here (terraform-provider-aws#25061).
STALE_VERSION_MESSAGE = (
    "The version of the cluster isn\u2019t current. Check the current version and try again."
)
NAME_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]*$")


def new_cluster_version() -> str:
    # MSK versions look like "K3AEGXETSR30VB": an opaque uppercase token.
    alphabet = string.ascii_uppercase + string.digits
    return "K" + "".join(mock_random.choice(alphabet) for _ in range(13))


class MskBackendBase(KafkaBackend):
    """The state the ``MskBackend`` mixins share; each mixin subclasses this (or the mixins
    whose helpers it calls), so every ``self`` is fully typed."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.msk_clusters: dict[str, MskCluster] = {}
        self.clusters_created: Counter[str] = Counter()  # per name, for stable ARNs
        self.configurations: dict[str, MskConfiguration] = {}
        self.operations: dict[str, ClusterOperation] = {}

    def _cluster(self, cluster_arn: str) -> MskCluster:
        cluster = self.msk_clusters.get(cluster_arn)
        if cluster is None:
            raise NotFoundException(f"The cluster {cluster_arn} does not exist.", "clusterArn")
        return cluster

    def _provisioned(self, cluster_arn: str) -> MskCluster:
        cluster = self._cluster(cluster_arn)
        if cluster.is_serverless:
            raise BadRequestException(
                "This operation is not supported for serverless clusters.", "clusterArn"
            )
        return cluster

    def _arn_prefix(self) -> str:
        return f"arn:{self.partition}:kafka:{self.region_name}:{self.account_id}"
