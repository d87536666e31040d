"""Cluster policies, versioned like MSK's: a put with a stale version is refused."""

from ..exceptions import BadRequestException, NotFoundException
from .base import MskBackendBase, new_cluster_version


class ClusterPolicyMixin(MskBackendBase):
    def put_cluster_policy(self, cluster_arn: str, current_version: str | None, policy: str) -> str:
        self._cluster(cluster_arn)
        stored = self.policies.get(cluster_arn)
        if (
            stored is not None
            and current_version is not None
            and current_version != stored["current_version"]
        ):
            raise BadRequestException(
                "The policy version isn't current. Get the current policy version and try again.",
                "currentVersion",
            )
        new_version = new_cluster_version()
        self.policies[cluster_arn] = {"policy": policy, "current_version": new_version}
        return new_version

    def get_cluster_policy(self, cluster_arn: str) -> tuple[str, str]:
        self._cluster(cluster_arn)
        stored = self.policies.get(cluster_arn)
        if stored is None:
            raise NotFoundException("The cluster has no cluster policy.", "clusterArn")
        return stored["policy"], stored["current_version"]

    def delete_cluster_policy(self, cluster_arn: str) -> None:
        self._cluster(cluster_arn)
        self.policies.pop(cluster_arn, None)
