"""MSK configurations and their revisions, and the check of a ConfigurationInfo a cluster is
to use."""

from typing import Any

from moto.moto_api._internal import mock_random

from .. import rules
from ..exceptions import BadRequestException, ConflictException, NotFoundException
from ..state import emulator_state
from .base import NAME_PATTERN, MskBackendBase
from .records import ConfigurationRevision, MskConfiguration


class ConfigurationsMixin(MskBackendBase):
    def _configuration(self, arn: str) -> MskConfiguration:
        configuration = self.configurations.get(arn)
        if configuration is None:
            raise NotFoundException(f"The configuration {arn} does not exist.", "arn")
        return configuration

    def create_configuration(
        self,
        name: str,
        server_properties: bytes,
        kafka_versions: list[str],
        description: str,
        *,
        past_support_allowed: bool = False,
    ) -> MskConfiguration:
        """``past_support_allowed`` accepts DEPRECATED KafkaVersions (the fleet seed's path)."""
        if not NAME_PATTERN.match(name) or len(name) > 64:
            raise BadRequestException(
                "Configuration names start with a letter or digit and contain only letters, "
                "digits and hyphens (at most 64 characters).",
                "name",
            )
        for version in kafka_versions:
            rules.check_creatable_version(
                version, "kafkaVersions", past_support_allowed=past_support_allowed
            )
        rules.check_server_properties(server_properties)
        if any(configuration.name == name for configuration in self.configurations.values()):
            raise ConflictException(
                "A configuration with this name already exists. "
                "Retry your request using another name.",
                "name",
            )
        now = emulator_state.clock.now()
        configuration = MskConfiguration(
            arn=(
                f"{self._arn_prefix()}:configuration/{name}/"
                f"{mock_random.uuid4()}-{mock_random.randint(1, 25)}"
            ),
            name=name,
            description=description,
            kafka_versions=list(kafka_versions),
            created=now,
            revisions=[ConfigurationRevision(1, now, description, server_properties)],
        )
        self.configurations[configuration.arn] = configuration
        return configuration

    def update_configuration(
        self, arn: str, server_properties: bytes, description: str
    ) -> MskConfiguration:
        configuration = self._configuration(arn)
        if configuration.state != "ACTIVE":
            raise BadRequestException(
                f"The configuration is in the {configuration.state} state.", "arn"
            )
        rules.check_server_properties(server_properties)
        configuration.revisions.append(
            ConfigurationRevision(
                len(configuration.revisions) + 1,
                emulator_state.clock.now(),
                description,
                server_properties,
            )
        )
        return configuration

    def describe_configuration(self, arn: str) -> MskConfiguration:
        return self._configuration(arn)

    def configuration_revision(self, arn: str, revision: int) -> ConfigurationRevision:
        configuration = self._configuration(arn)
        if not 1 <= revision <= len(configuration.revisions):
            raise NotFoundException(
                f"The configuration {arn} has no revision {revision}.", "revision"
            )
        return configuration.revisions[revision - 1]

    def list_configurations(self) -> list[MskConfiguration]:
        return sorted(self.configurations.values(), key=lambda c: (c.created, c.name))

    def delete_configuration(self, arn: str) -> MskConfiguration:
        configuration = self._configuration(arn)
        users = sorted(
            cluster.name
            for cluster in self.msk_clusters.values()
            if cluster.settings.get("ConfigurationInfo", {}).get("Arn") == arn
        )
        users += sorted(
            self.msk_clusters[op.cluster_arn].name
            for op in self.operations.values()
            if op.running and op.target.get("ConfigurationInfo", {}).get("Arn") == arn
        )
        if users:
            raise BadRequestException(
                f"The configuration is in use by clusters [{', '.join(users)}]. "
                "Update those clusters to another configuration first.",
                "arn",
            )
        del self.configurations[arn]
        configuration.state = "DELETING"
        self.tagger.delete_all_tags_for_resource(arn)
        return configuration

    def _usable_configuration(
        self, configuration_info: dict[str, Any], kafka_version: str
    ) -> dict[str, Any]:
        """Check a ConfigurationInfo a cluster is to use; returns it as the cluster stores it."""
        arn = configuration_info["Arn"]
        if not arn.startswith(f"{self._arn_prefix()}:configuration/"):
            raise BadRequestException("Invalid Configuration ARN.", "configurationInfo.arn")
        configuration = self.configurations.get(arn)
        if configuration is None:
            raise BadRequestException(
                f"The configuration {arn} does not exist.", "configurationInfo.arn"
            )
        revision = configuration_info["Revision"]
        if not 1 <= revision <= len(configuration.revisions):
            raise BadRequestException(
                f"The configuration {arn} has no revision {revision}.",
                "configurationInfo.revision",
            )
        self._check_supports_version(configuration, kafka_version, "The configuration")
        return {"Arn": arn, "Revision": revision}

    def _check_supports_version(
        self, configuration: MskConfiguration, kafka_version: str, subject: str
    ) -> None:
        """A configuration applies to the versions in its KafkaVersions; one created without
        the list (empty) applies to every version."""
        if configuration.kafka_versions and kafka_version not in configuration.kafka_versions:
            raise BadRequestException(
                f"{subject} supports Apache Kafka "
                f"[{', '.join(configuration.kafka_versions)}], not {kafka_version}.",
                "configurationInfo.arn",
            )
