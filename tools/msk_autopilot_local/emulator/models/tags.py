"""Which resources take tags, and the clusters moto's Resource Groups Tagging API lists."""

from collections.abc import Iterator

from moto.core.resource_tagging import TaggedResource

from ..exceptions import NotFoundException
from .base import MskBackendBase


class TagsMixin(MskBackendBase):
    def check_taggable(self, resource_arn: str) -> None:
        if resource_arn not in self.msk_clusters and resource_arn not in self.configurations:
            raise NotFoundException(f"The resource {resource_arn} does not exist.", "resourceArn")

    def iter_tagged_resources(self) -> Iterator[TaggedResource]:
        for cluster in self.msk_clusters.values():
            yield TaggedResource(
                arn=cluster.arn,
                tags=self.tagger.get_tag_dict_for_resource(cluster.arn),
                resource_type="kafka:cluster",
            )
