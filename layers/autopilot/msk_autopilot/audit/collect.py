"""What the audit reads from AWS: clusters per account and Region, and the data controls ask for.

ListClustersV2 already carries nearly every setting the controls check. The rest is fetched by
`RegionEvidence` only when a check first asks for it, in as few calls as AWS allows, and kept
for the run (failures too, so a denied call is not repeated for every cluster):

- KMS keys: one DescribeKey per distinct key, shared by data volumes and SCRAM secrets;
- security groups: one paginated DescribeSecurityGroups for every group of the Region's clusters;
- Kafka versions: one ListKafkaVersions; scaling policies: one DescribeScalingPolicies
  (ServiceNamespace kafka), asked only for clusters not opted in to msk-autopilot;
- SCRAM secrets: one ListSecrets (names starting AmazonMSK_, the prefix MSK requires, in the
  cluster's account and Region, so the list holds every secret a cluster can use). Unless there
  is none, ListScramSecrets runs once per SCRAM cluster: which secrets it uses, and whether it
  uses any (a SCRAM cluster without a secret has nothing to judge, which is not a pass);
- cluster policies: GetClusterPolicy per cluster, the one call AWS offers no list form of;
- topics: the topic APIs per cluster (durability.read_cluster_topics: ceil(N/100) ListTopics and
  a DescribeTopic per topic of RF >= 3), only for ACTIVE provisioned clusters from Kafka 3.6;
- trails: one DescribeTrails, then GetTrailStatus and GetEventSelectors per trail (`read_trails`);
- connectors: ListConnectors, 100 a page, on full runs (`list_region`), as subjects of their own.

Every call through `AuditTarget.client` is counted (a botocore `before-call` hook) into the
counter of the enclosing `counting_api_calls()` block.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot.audit.connectors import Connector
from msk_autopilot.audit.controls import (
    AccountRegion,
    AuditedResource,
    DataUnavailable,
    IpPermission,
    ScramSecrets,
    Subject,
    security_group_ids,
)
from msk_autopilot.audit.durability import ClusterTopics, read_cluster_topics
from msk_autopilot.audit.trails import AdvancedEventSelector, EventSelector, Trail
from msk_autopilot.aws import ClientFactory, PaginationError, error_code, error_message, pages
from msk_autopilot.msk import ClusterSnapshot

__all__ = [
    "AuditTarget",
    "RegionEvidence",
    "RegionInventory",
    "UnreadableCluster",
    "counted",
    "counting_api_calls",
    "describe_error",
    "describe_one",
    "list_clusters",
    "list_connectors",
    "list_region",
    "read_trails",
]

# The counters of the enclosing counting_api_calls() blocks, innermost last.
_COUNTERS: ContextVar[tuple[Counter[str], ...]] = ContextVar("msk_autopilot_calls", default=())
_AWS_SECRETS_KEY = "alias/aws/secretsmanager"
_MSK_SECRET_PREFIX = "AmazonMSK_"  # noqa: S105  a name prefix, not a password
_STORAGE_DIMENSION = "kafka:broker-storage:VolumeSize"
# Values per EC2 filter are capped (200 in the EC2 API reference for Describe* filters).
_FILTER_VALUES = 200


def _count_call(event_name: str, **_: Any) -> None:
    operation = event_name.removeprefix("before-call.")
    for calls in _COUNTERS.get():
        calls[operation] += 1


def counted(client: Any) -> Any:
    """`client`, with its calls counted; registering twice is a no-op (clients are cached)."""
    client.meta.events.register("before-call", _count_call, unique_id="msk-autopilot-call-count")
    return client


@contextmanager
def counting_api_calls() -> Iterator[Counter[str]]:
    """Counts every call of counted clients made inside the block, by "service.Operation";
    blocks nest (an outer block counts the calls of inner ones too)."""
    calls: Counter[str] = Counter()
    token = _COUNTERS.set((*_COUNTERS.get(), calls))
    try:
        yield calls
    finally:
        _COUNTERS.reset(token)


def describe_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        code = error_code(error) or "Unknown"
        return f"{error.operation_name} failed: {code}: {error_message(error)}".rstrip(": ")
    return f"{type(error).__name__}: {error}"


class AuditTarget(msgspec.Struct, frozen=True):
    """One account and Region to audit, with the clients that act there."""

    account: str
    region: str
    clients: ClientFactory

    def client(self, service: str) -> Any:
        return counted(self.clients.client(service, self.region))


class UnreadableCluster(msgspec.Struct, frozen=True):
    """A cluster the listing returned but whose description could not be read."""

    arn: str
    name: str
    reason: str


class RegionInventory(msgspec.Struct, frozen=True):
    """What one account and Region holds to audit. `complete` is False for an event run's one
    cluster: account-level subjects are then left to the full runs. `connectors_unlisted` says
    why the connectors could not be listed (their findings then stay as last reported)."""

    target: AuditTarget
    clusters: list[ClusterSnapshot]
    unreadable: list[UnreadableCluster] = msgspec.field(default_factory=list)
    complete: bool = True
    connectors: list[Connector] = msgspec.field(default_factory=list)
    connectors_unlisted: str | None = None

    def resources(self) -> list[AuditedResource]:
        """Every resource to evaluate, each with its subject."""
        found = [
            AuditedResource(Subject.CLUSTER, c.cluster_arn, c.cluster_name, c)
            for c in self.clusters
        ]
        found += [
            AuditedResource(Subject.CONNECTOR, c.connector_arn, c.connector_name, c)
            for c in self.connectors
        ]
        if self.complete:
            scope = AccountRegion(self.target.account, self.target.region)
            name = f"{scope.account}/{scope.region}"
            found.append(AuditedResource(Subject.ACCOUNT_REGION, scope.resource_id, name, scope))
        return found


def _snapshot(info: Mapping[str, Any]) -> ClusterSnapshot | UnreadableCluster:
    try:
        return ClusterSnapshot.from_api(info)
    except msgspec.ValidationError as error:
        return UnreadableCluster(
            arn=str(info.get("ClusterArn", "")),
            name=str(info.get("ClusterName", "")),
            reason=f"the cluster description could not be read: {error}",
        )


def list_clusters(target: AuditTarget) -> RegionInventory:
    """Every cluster of the target (but those being deleted); raises ClientError/BotoCoreError
    when the listing itself fails."""
    clusters: list[ClusterSnapshot] = []
    unreadable: list[UnreadableCluster] = []
    for page in pages(target.client("kafka").list_clusters_v2):
        for info in page.get("ClusterInfoList", []):
            if info.get("State") == "DELETING":
                continue
            snapshot = _snapshot(info)
            if isinstance(snapshot, UnreadableCluster):
                unreadable.append(snapshot)
            else:
                clusters.append(snapshot)
    return RegionInventory(target, clusters, unreadable)


def list_region(target: AuditTarget) -> RegionInventory:
    """Every cluster and connector of the target (a full run); raises ClientError/BotoCoreError
    when the clusters cannot be listed. Connectors that cannot be listed are an error of their
    own (`connectors_unlisted`): the clusters are audited all the same."""
    inventory = list_clusters(target)
    try:
        connectors = list_connectors(target)
    except DataUnavailable as unavailable:
        return msgspec.structs.replace(inventory, connectors_unlisted=unavailable.reason)
    return msgspec.structs.replace(inventory, connectors=connectors)


def list_connectors(target: AuditTarget) -> list[Connector]:
    """Every MSK Connect connector of the target's account and Region (ListConnectors, 100 a
    page); raises DataUnavailable when MSK Connect does not answer."""
    listing = pages(
        target.client("kafkaconnect").list_connectors, cursor="nextToken", maxResults=100
    )
    try:
        return [
            connector
            for page in listing
            for connector in msgspec.convert(page.get("connectors", []), type=list[Connector])
        ]
    except PaginationError as error:
        raise DataUnavailable(str(error)) from None
    except (ClientError, BotoCoreError) as error:
        raise DataUnavailable(describe_error(error)) from None
    except msgspec.ValidationError as error:
        raise DataUnavailable(
            f"ListConnectors returned a connector that cannot be read: {error}"
        ) from None


class _Described(msgspec.Struct, frozen=True, rename="pascal"):
    name: str
    home_region: str
    is_multi_region_trail: bool = False
    trail_arn: str = msgspec.field(name="TrailARN", default="")


class _Selectors(msgspec.Struct, frozen=True, rename="pascal"):
    event_selectors: list[EventSelector] = []
    advanced_event_selectors: list[AdvancedEventSelector] = []


def read_trails(target: AuditTarget) -> list[Trail]:
    """Every trail that may record the target's Region; raises DataUnavailable when CloudTrail
    does not answer."""
    try:
        listed = target.client("cloudtrail").describe_trails(includeShadowTrails=True)
        trails = []
        for entry in msgspec.convert(listed.get("trailList", []), type=list[_Described]):
            home = counted(target.clients.client("cloudtrail", entry.home_region))
            arn = entry.trail_arn or entry.name
            status = home.get_trail_status(Name=arn)
            selectors = msgspec.convert(home.get_event_selectors(TrailName=arn), type=_Selectors)
            trails.append(
                Trail(
                    name=entry.name,
                    arn=arn,
                    home_region=entry.home_region,
                    multi_region=entry.is_multi_region_trail,
                    logging=bool(status.get("IsLogging")),
                    selectors=selectors.event_selectors,
                    advanced_selectors=selectors.advanced_event_selectors,
                )
            )
    except (ClientError, BotoCoreError) as error:
        raise DataUnavailable(describe_error(error)) from None
    except msgspec.ValidationError as error:
        raise DataUnavailable(f"CloudTrail returned a trail that cannot be read: {error}") from None
    return trails


def describe_one(target: AuditTarget, cluster_arn: str) -> RegionInventory:
    """The inventory of one cluster (empty if it no longer exists)."""
    try:
        info = target.client("kafka").describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]
    except ClientError as error:
        if error_code(error) == "NotFoundException":
            return RegionInventory(target, [], complete=False)
        raise
    snapshot = _snapshot(info)
    if isinstance(snapshot, UnreadableCluster):
        return RegionInventory(target, [], [snapshot], complete=False)
    if snapshot.state == "DELETING":
        return RegionInventory(target, [], complete=False)
    return RegionInventory(target, [snapshot], complete=False)


class _Once[T]:
    """A value fetched on first use; a failed fetch is remembered as its reason."""

    def __init__(self, fetch: Callable[[], T]) -> None:
        self._fetch = fetch
        self._value: tuple[T] | None = None
        self._failure: str | None = None

    def get(self) -> T:
        if self._value is None and self._failure is None:
            try:
                self._value = (self._fetch(),)
            except (ClientError, BotoCoreError) as error:
                self._failure = describe_error(error)
            except DataUnavailable as unavailable:
                self._failure = unavailable.reason
        if self._value is None:
            raise DataUnavailable(self._failure or "not collected")
        return self._value[0]


class _Secret(msgspec.Struct, frozen=True):
    name: str
    kms_key_id: str | None


class RegionEvidence:
    """`Evidence` for the clusters of one account and Region (see the module docstring)."""

    def __init__(self, inventory: RegionInventory, opt_in_tag_key: str) -> None:
        self._target = inventory.target
        self._clusters = inventory.clusters
        self._opt_in_tag_key = opt_in_tag_key
        self._today = datetime.now(UTC).date()
        self._keys: dict[str, _Once[str]] = {}
        self._policies: dict[str, _Once[Mapping[str, Any] | None]] = {}
        self._associated: dict[str, _Once[list[str]]] = {}
        self._topics: dict[str, _Once[ClusterTopics]] = {}
        self._trails = _Once(lambda: read_trails(self._target))
        self._groups = _Once(self._fetch_security_groups)
        self._versions = _Once(self._fetch_kafka_versions)
        self._scaled = _Once(self._fetch_scaled_clusters)
        self._secrets = _Once(self._fetch_msk_secrets)

    @property
    def today(self) -> date:
        return self._today

    @property
    def opt_in_tag_key(self) -> str:
        return self._opt_in_tag_key

    # --- KMS ---------------------------------------------------------------------------------

    def key_manager(self, key_id: str) -> str:
        if key_id not in self._keys:
            self._keys[key_id] = _Once(lambda: self._fetch_key_manager(key_id))
        return self._keys[key_id].get()

    def _fetch_key_manager(self, key_id: str) -> str:
        metadata = self._target.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
        return str(metadata["KeyManager"])

    # --- EC2 ---------------------------------------------------------------------------------

    def security_group_rules(
        self, group_ids: Sequence[str]
    ) -> Mapping[str, Sequence[IpPermission] | None]:
        groups = self._groups.get()
        return {group: groups.get(group) for group in group_ids}

    def _fetch_security_groups(self) -> dict[str, list[IpPermission]]:
        wanted = sorted({g for cluster in self._clusters for g in security_group_ids(cluster)})
        describe = self._target.client("ec2").describe_security_groups
        found: dict[str, list[IpPermission]] = {}
        # A group-id filter, not GroupIds: a deleted group is then missing, not an error.
        for start in range(0, len(wanted), _FILTER_VALUES):
            chunk = wanted[start : start + _FILTER_VALUES]
            listing = pages(
                describe, Filters=[{"Name": "group-id", "Values": chunk}], MaxResults=1000
            )
            for page in listing:
                for group in page.get("SecurityGroups", []):
                    found[group["GroupId"]] = msgspec.convert(
                        group.get("IpPermissions", []), type=list[IpPermission]
                    )
        return found

    # --- MSK -----------------------------------------------------------------------------------

    def cluster_policy(self, cluster_arn: str) -> Mapping[str, Any] | None:
        if cluster_arn not in self._policies:
            self._policies[cluster_arn] = _Once(lambda: self._fetch_policy(cluster_arn))
        return self._policies[cluster_arn].get()

    def _fetch_policy(self, cluster_arn: str) -> Mapping[str, Any] | None:
        try:
            text = self._target.client("kafka").get_cluster_policy(ClusterArn=cluster_arn)["Policy"]
        except ClientError as error:
            if error_code(error) == "NotFoundException":
                return None
            raise
        try:
            policy = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataUnavailable(f"the cluster policy is not valid JSON: {error}") from None
        if not isinstance(policy, Mapping):
            raise DataUnavailable("the cluster policy is not a JSON object")
        return policy

    def kafka_version_status(self, version: str) -> str | None:
        return self._versions.get().get(version)

    def _fetch_kafka_versions(self) -> dict[str, str]:
        return {
            item["Version"]: item.get("Status", "")
            for page in pages(self._target.client("kafka").list_kafka_versions)
            for item in page.get("KafkaVersions", [])
        }

    def cluster_topics(self, cluster_arn: str) -> ClusterTopics:
        if cluster_arn not in self._topics:
            kafka = self._target.client("kafka")
            self._topics[cluster_arn] = _Once(lambda: read_cluster_topics(kafka, cluster_arn))
        return self._topics[cluster_arn].get()

    # --- CloudTrail ----------------------------------------------------------------------------

    def trails(self) -> Sequence[Trail]:
        return self._trails.get()

    # --- Application Auto Scaling ------------------------------------------------------------

    def has_storage_scaling_policy(self, cluster_arn: str) -> bool:
        return cluster_arn in self._scaled.get()

    def _fetch_scaled_clusters(self) -> frozenset[str]:
        describe = self._target.client("application-autoscaling").describe_scaling_policies
        return frozenset(
            policy["ResourceId"]
            for page in pages(describe, ServiceNamespace="kafka")
            for policy in page.get("ScalingPolicies", [])
            if policy.get("ScalableDimension") == _STORAGE_DIMENSION
        )

    # --- SCRAM secrets -----------------------------------------------------------------------

    def scram_secrets(self, cluster_arn: str) -> ScramSecrets:
        secrets = self._secrets.get()
        if not secrets:
            return ScramSecrets(associated=0)  # MSK associates only AmazonMSK_ secrets
        problems = {arn: self._secret_key_problem(secret) for arn, secret in secrets.items()}
        doubtful = {arn: problem for arn, problem in problems.items() if problem is not None}
        associated = self._associated_secrets(cluster_arn)
        weak: list[str] = []
        for arn in associated:
            if arn not in secrets:
                raise DataUnavailable(f"associated secret {arn} is not in Secrets Manager")
            problem = doubtful.get(arn)
            if problem is None:
                continue
            if isinstance(problem, DataUnavailable):
                raise DataUnavailable(f"secret {secrets[arn].name}: {problem.reason}")
            weak.append(secrets[arn].name)
        return ScramSecrets(associated=len(associated), without_customer_key=tuple(weak))

    def _secret_key_problem(self, secret: _Secret) -> str | DataUnavailable | None:
        """Why the secret's key is not customer managed (a manager, or why it is unknown)."""
        key = secret.kms_key_id
        if key is None or key == _AWS_SECRETS_KEY or key.endswith(":" + _AWS_SECRETS_KEY):
            return "AWS"  # Secrets Manager omits the key id of its AWS managed default key
        try:
            manager = self.key_manager(key)
        except DataUnavailable as unavailable:
            return unavailable
        return None if manager == "CUSTOMER" else manager

    def _associated_secrets(self, cluster_arn: str) -> list[str]:
        if cluster_arn not in self._associated:
            self._associated[cluster_arn] = _Once(lambda: self._fetch_associated(cluster_arn))
        return self._associated[cluster_arn].get()

    def _fetch_associated(self, cluster_arn: str) -> list[str]:
        listing = pages(self._target.client("kafka").list_scram_secrets, ClusterArn=cluster_arn)
        return [arn for page in listing for arn in page.get("SecretArnList", [])]

    def _fetch_msk_secrets(self) -> dict[str, _Secret]:
        listing = pages(
            self._target.client("secretsmanager").list_secrets,
            Filters=[{"Key": "name", "Values": [_MSK_SECRET_PREFIX]}],
            MaxResults=100,
        )
        return {
            entry["ARN"]: _Secret(entry["Name"], entry.get("KmsKeyId"))
            for page in listing
            for entry in page.get("SecretList", [])
        }
