"""MSK control-plane emulator: moto's ``kafka`` service extended to the MSK API this project uses.

Activation
----------
In-process (tests)::

    from moto import mock_aws
    from msk_autopilot_local.emulator import control, install

    with mock_aws():
        install()                      # idempotent; moto's kafka backend becomes MskBackend
        kafka = boto3.client("kafka", region_name="eu-west-1")
        ...
        control.complete_operations()  # finish everything that is running

or, in pytest, ``pytest_plugins = ["msk_autopilot_local.emulator.testing"]`` and the
``msk_emulator`` fixture (see ``testing``). Server mode::

    server = start_server(port=0)        # all moto services + the emulator, on 127.0.0.1
    boto3.client("kafka", endpoint_url=server.endpoint_url, region_name="us-east-1")
    server.stop()

Accounts and Regions are moto's: 123456789012 by default, any Region; each account/Region pair
has its own clusters and configurations.

Behaviour
---------
* Lifecycle: a new cluster is CREATING and becomes ACTIVE ``cluster_create_seconds`` later
  (default 0: from the next call on). Every update (storage, configuration, security, monitoring,
  connectivity, broker count/type, Kafka version) starts an operation: the cluster turns UPDATING
  (REBOOTING_BROKER for RebootBroker) with ``ActiveOperationArn`` set, and after
  ``operation_seconds`` (default 300) of emulated time the operation is UPDATE_COMPLETE, the new
  settings show in DescribeCluster/DescribeClusterV2/ListClusters(V2)/ListNodes, and the cluster
  is ACTIVE again. ``CurrentVersion`` changes when an update is accepted and when it ends; any
  update with another version is refused ("The version of the cluster isn't current...").
  DeleteCluster answers DELETING and the cluster is gone from the next call on.
* Storage: UpdateBrokerStorage/UpdateStorage need kafkaBrokerNodeId "ALL", whole GiB, at most
  16384 GiB, growth of at least 10 GiB (shrinking gets the same error), provisioned throughput
  of 250 MiB/s up to the broker type's maximum on kafka.m5.4xlarge+/kafka.m7g.2xlarge+ only, and
  no volume change within ``storage_cooldown_seconds`` (default 6 h) after the last one ended.
* Operations: ListClusterOperations(V2)/DescribeClusterOperation(V2) report every update with
  OperationType (UPDATE_BROKER_STORAGE, UPDATE_STORAGE, UPDATE_BROKER_COUNT,
  DECREASE_BROKER_COUNT, UPDATE_BROKER_TYPE, UPDATE_REBALANCING, UPDATE_CLUSTER_CONFIGURATION,
  UPDATE_CLUSTER_KAFKA_VERSION, UPDATE_CONNECTIVITY,
  UPDATE_MONITORING, UPDATE_SECURITY, REBOOT_NODE), OperationState (UPDATE_IN_PROGRESS,
  UPDATE_COMPLETE, UPDATE_FAILED), start/end time, source/target cluster info and ErrorInfo.
* Kafka versions (``catalog``): ListKafkaVersions is the core's version catalogue, each version
  DEPRECATED from its end-of-support date (on the emulator's clock) on. CreateCluster(V2) and
  CreateConfiguration accept ACTIVE versions only; the fleet seed's requests carry the header
  ``x-msk-emulator-past-support-allowed: true``, which also lets DEPRECATED ones through, as
  accounts hold clusters created before their end of support. GetCompatibleKafkaVersions
  (per cluster, or every version without a ClusterArn) lists the newer ACTIVE versions in the
  source's metadata mode, plus 3.9.x -> 3.9.x.kraft, the only in-place ZooKeeper to KRaft move
  (so an older ZooKeeper cluster reaches KRaft in several hops). UpdateClusterKafkaVersion needs
  an ACTIVE cluster and its CurrentVersion, a target GetCompatibleKafkaVersions lists (never a
  downgrade), no broker above its size's partition maximum (the replicas placed on it when the
  cluster has topics, else the PartitionCount of the health profile, if any) and a configuration
  whose KafkaVersions list the target (the ConfigurationInfo
  passed, else the cluster's; an empty list means every version).
* Capacity (``models.capacity``): UpdateBrokerType along the moves ``msk_autopilot.capacity.
  sizes`` allows, a smaller size only while every broker fits its partition maximum.
  UpdateBrokerCount in multiples of the zone count: new brokers get new IDs, zones
  round-robin, and hold nothing on Standard; removal (DECREASE_BROKER_COUNT, BrokerCountUpdateInfo
  .DeletedBrokerIds) takes one broker per zone, M5/M7g/Express on Kafka 2.8.1+, the newest broker
  of each zone holding no partitions but MSK's canary topics. Express clusters have Rebalancing
  {Status: ACTIVE} unless created PAUSED; UpdateRebalancing switches it (Express only); while
  ACTIVE, added brokers get their share of the partitions and removed ones are drained when the
  operation completes.
* Topics (``models.topics``): ListTopics, DescribeTopic (Configs: base64 JSON, retention.ms the
  topic's or the cluster's configuration's log.retention.ms/hours, else 168 h),
  DescribeTopicPartitions (leader, replicas, ISR; paginated), CreateTopic, UpdateTopic (configs,
  more partitions), DeleteTopic on provisioned clusters on Kafka 3.6+ while ACTIVE; replicas
  placed by Kafka's rack-aware assignment, a zone being a rack (``placement``).
* Security groups: a cluster created without any (BrokerNodeGroupInfo.SecurityGroups,
  VpcConfig.SecurityGroupIds) gets the default security group of its subnets' VPC in moto's EC2
  (the Region's default VPC for subnets EC2 does not know), as MSK does; a group id that does
  not exist is refused (BadRequestException naming it).
* MSK Connect (``kafkaconnect``, which moto lacks): CreateConnector, ListConnectors,
  DescribeConnector, DeleteConnector, ListTagsForResource, checked against botocore's model; a
  connector is CREATING, RUNNING ``connector_create_seconds`` later (default 0), DELETING when
  deleted and gone from the next call on; a duplicate name is a ConflictException.
* Errors use MSK's shapes: status 400/404/409, ``x-amzn-ErrorType`` and the JSON body
  ``{"message", "invalidParameter"}``. Operations the emulator lacks (replicators, VPC
  connections, ...) answer 501 ``NotImplementedException``.

Control (Python)
----------------
``control.clock.now()`` / ``control.clock.advance(seconds)``; ``control.configure(
cluster_create_seconds=..., operation_seconds=..., storage_cooldown_seconds=...)``;
``control.fail_next_operation(error_code=..., error_string=...)`` (the next operation to start is
accepted, then ends UPDATE_FAILED with that ErrorInfo and the cluster keeps its old settings);
``control.complete_operations()`` (advance the clock until nothing is pending);
``control.set_cluster_health(cluster_arn, broker=None, **values)`` (see Health metrics);
``control.set_broker_load(cluster_arn, broker=None, since=timedelta(days=14),
step=timedelta(hours=1), cpu_user=..., cpu_system=..., bytes_in=..., bytes_out=...,
replication_bytes_in=... (PER_BROKER monitoring or finer), produce_throttle_ms=...,
fetch_throttle_ms=...)`` (each a number or one number per step, oldest
first; a past of hourly points, the last values becoming the health profile's; see ``load``);
``control.set_out_of_sync(cluster_arn, topic, partition, brokers)`` (those replicas leave the
partition's ISR; ``[]`` brings all back; returns the ISR);
``control.set_partition_bytes(cluster_arn, topic, bytes_per_partition)`` and
``control.partition_bytes(cluster_arn)`` (topic -> bytes per partition, which MSK's API never
returns);
``control.start_maintenance(cluster_arn, seconds=None)`` (MSK's own patching: a Standard cluster
goes to MAINTENANCE with a SECURITY_PATCHING operation, and refuses updates; an Express cluster
stays ACTIVE with a BROKER_UPDATE operation; either ends UPDATE_COMPLETE after ``seconds``,
default ``operation_seconds``); ``control.set_customer_action_status(cluster_arn, status)``
(NONE, ACTION_RECOMMENDED or CRITICAL_ACTION_REQUIRED, in DescribeClusterV2/ListClustersV2);
``control.tick()`` (what ``local-aws`` does every few seconds, see Alarms);
``control.reset()`` (real time, default settings, no faults, no MSK resources).

Control (HTTP, server mode), all JSON
-------------------------------------
``GET  /_msk_emulator/clock``                  -> ``{"now": ISO-8601}``
``POST /_msk_emulator/clock/advance``          ``{"seconds": N}`` -> ``{"now": ...}``
``POST /_msk_emulator/operations/complete``    -> ``{"now": ...}``
``POST /_msk_emulator/faults/next-operation``  ``{"errorCode": "...", "errorString": "..."}``
``GET  /_msk_emulator/settings``               -> the settings below
``POST /_msk_emulator/settings``               ``{"clusterCreateSeconds": 0,
"connectorCreateSeconds": 0, "operationSeconds": 300, "storageCooldownSeconds": 21600}``
(any subset) -> all settings
``POST /_msk_emulator/reset``                  as ``control.reset()``
``POST /_msk_emulator/alarms/evaluate``        ``{"region": "us-east-1", "account": "...",
"alarmNamePrefix": "..."}`` (account and prefix optional) -> ``{"transitions": [{"alarmName",
"previousState", "state", "reason", "event"}]}``, as ``evaluate_alarms`` (below), with the
transitions' actions and events (see Alarms)
``POST /_msk_emulator/clusters/health``        ``{"clusterArn": "...", "broker": 2,
"underReplicatedPartitions": 4}`` (broker optional) -> ``{"health": the whole profile}``
``POST /_msk_emulator/clusters/load``          ``{"clusterArn": "...", "broker": 2,
"sinceHours": 336, "stepMinutes": 60, "cpuUser": 70 or [...], "cpuSystem", "bytesIn",
"bytesOut", "replicationBytesIn", "produceThrottleMs", "fetchThrottleMs"}`` -> ``{"points": N}``
``POST /_msk_emulator/topics/bytes``           ``{"clusterArn": "...", "topic": "...",
"bytesPerPartition": N}``
``POST /_msk_emulator/topics/out-of-sync``     ``{"clusterArn": "...", "topic": "...",
"partition": 0, "brokers": [2]}`` -> ``{"isr": [...]}``
``POST /_msk_emulator/clusters/maintenance``   ``{"clusterArn": "...", "seconds": 1800}``
(seconds optional) -> ``{"clusterOperationArn": ...}``
``POST /_msk_emulator/clusters/customer-action-status`` ``{"clusterArn": "...", "status": ...}``
Bad input gets 400, an unknown path 404, a wrong method 405, each with ``{"message": ...}``.
moto's own ``POST /moto-api/reset`` clears every service's resources but not the emulator's
clock, settings and faults.

Fleet seed
----------
``seed_fleet(session_or_clients, spec)`` creates configurations and clusters through boto3 and
returns their ARNs (``SeededFleet``). A fresh emulator gives a cluster of a given account, Region
and name the same ARN every time (a name created again after a deletion gets a new one).
Spec (JSON or YAML; only ``name`` is required)::

    configurations:
      - name: base
        kafkaVersions: ["3.6.0", "3.8.x"]
        serverProperties: |
          auto.create.topics.enable=false
          min.insync.replicas=2
    clusters:
      - name: orders
        brokers: 3                        # default: one per subnet
        instanceType: kafka.m5.4xlarge    # default kafka.m5.large
        volumeSizeGiB: 1000               # default 1000
        provisionedThroughput: 593        # MiB/s; omit for none
        kafkaVersion: 3.6.0               # default 3.8.x; versions past end of support too
                                          # (DEPRECATED, which CreateClusterV2 refuses), as
                                          # accounts hold clusters created before it
        storageMode: LOCAL
        subnets: [subnet-a, subnet-b, subnet-c]
        securityGroups: [sg-0123...]     # must exist in EC2; default: the VPC's default group
        configuration: base               # latest revision, or {name: base, revision: 1}
        encryption: {kmsKeyId: "arn:aws:kms:...", clientBroker: TLS, inCluster: true}
        authentication: {iam: true, scram: true, unauthenticated: false,
                         tlsCertificateAuthorities: ["arn:aws:acm-pca:..."]}
        enhancedMonitoring: PER_TOPIC_PER_BROKER
        openMonitoring: {jmxExporter: true, nodeExporter: true}
        logging: {cloudWatchLogGroup: msk-orders, s3Bucket: logs, s3Prefix: msk/,
                  firehoseDeliveryStream: msk-logs}
        publicAccess: true                # applied after creation, as MSK requires
        tags: {team: payments}
        scramUsers: [alice, bob]          # AmazonMSK_<cluster>_<user> secrets under a new CMK,
                                          # tagged as the cluster is
        diskUsage: {from: 33, to: 78, hours: 3}   # KafkaDataLogsDiskUsed of each broker (or of
                                          # `brokers: [2]`) rising in a straight line over the
                                          # last `hours` (at most 360), one point a minute,
                                          # ending when the fleet is seeded
        health: {cpuUser: 70, brokers: {2: {underReplicatedPartitions: 4}}}
                                          # starts the health metrics (see Health metrics),
                                          # healthy defaults changed by these camelCase values,
                                          # for every broker or per broker ID
                                          # (no partitionCount when the cluster has topics)
        topics:                           # created with CreateTopic (Kafka 3.6+), replicas
          - {name: payments, partitions: 12, replicationFactor: 3, retentionHours: 72,
             bytesPerPartition: 5000000000}   # placed rack-aware; retentionHours sets
                                          # retention.ms; bytes per partition (default 0)
                                          # for StorageUsed and partition moves
          - {name: scratch, replicationFactor: 1,
             configs: {min.insync.replicas: 1, unclean.leader.election.enable: true}}
      - name: events
        serverless: true                  # serverless keys: name, subnets, securityGroups, tags
        subnets: [subnet-a, subnet-b]
    connectors:                           # MSK Connect, through CreateConnector, on a fleet
      - name: s3-sink                     # cluster's bootstrap servers, subnets and groups
        cluster: orders
        authentication: IAM               # NONE (default) or IAM (needs TLS)
        encryptionInTransit: TLS          # TLS (default) or PLAINTEXT
        logDelivery: {cloudWatchLogGroup: connect, s3Bucket: logs, s3Prefix: connect/,
                      firehoseDeliveryStream: connect-logs}   # omitted: worker logs off
        kafkaConnectVersion: 2.7.1
        tags: {team: data}
    trails:                               # CloudTrail (moto's), bucket created
      - name: org
        bucket: org-trail                 # default cloudtrail-<name>
        multiRegion: true                 # default false
        logging: true                     # false: created, never started
        eventSelectors: [{ReadWriteType: All, IncludeManagementEvents: true}]
        # or advancedEventSelectors: [{FieldSelectors: [...]}] (stored as given), not both

Metrics
-------
``put_broker_metrics(cloudwatch, cluster_name, broker_id, {"KafkaDataLogsDiskUsed": 71.5},
timestamp)`` and ``put_linear_series(cloudwatch, cluster_name, broker_ids=[1, 2, 3], start=...,
end=..., start_value=40, end_value=85)`` write ``AWS/Kafka`` data points with the dimensions
"Cluster Name" and "Broker ID" into moto's CloudWatch, for GetMetricData to read back.

Health metrics
--------------
A cluster given a health profile publishes what MSK publishes each minute and the health gates
and recommended alarms read: per broker CpuUser, CpuSystem, UnderReplicatedPartitions,
UnderMinIsrPartitionCount, PartitionCount, HeapMemoryAfterGC, BytesInPerSec, BytesOutPerSec,
ConnectionCount (Express: ProduceThrottleTime and FetchThrottleTime, no UnderReplicatedPartitions
or HeapMemoryAfterGC), per cluster OfflinePartitionsCount (not on Express), StorageUsed (Express
only) and ActiveControllerCount (one datum per broker, so Sum is the controller count).
PartitionCount is the replicas placed on the broker when the cluster has topics. Setting a
profile rewrites its last 15 minutes; the clock's advances publish the minutes that pass, and an
hourly point for each hour before them, up to 15 days (see ``health``); ``set_broker_load``
writes a chosen past (see ``load``). A cluster without a profile publishes nothing.

Alarms
------
moto keeps CloudWatch alarms but never evaluates them. ``evaluate_alarms(region=...,
account_id=..., name_prefix=...)`` evaluates the metric alarms on their data at the emulator's
time (threshold, comparison, period, evaluation periods, datapoints to alarm, missing data), the
metric-math ones too (arithmetic, ``ABS``, ``MAX``/``MIN``/``SUM``/``AVG`` of a list: every alarm
the health monitor keeps; an expression beyond that leaves its alarm as it is, the reason
logged; see ``metric_math``), sets the state of those that change and returns their
``AlarmTransition``s; ``transition.event()`` is the "CloudWatch Alarm State Change" EventBridge
delivers (see ``alarms``). ``evaluate_and_act()``
evaluates every account and Region and does what CloudWatch does next: SNS notifications to the
topics among the new state's actions while ActionsEnabled, and the event on the default event
bus (``alarm_actions``). ``local-aws`` runs an ``EmulatorTicker`` that does this, after the
health metrics due, on every clock advance and every few seconds (``ticker``).

CloudWatch Logs
---------------
``install()`` adds PutQueryDefinition, DescribeQueryDefinitions and DeleteQueryDefinition to
moto's CloudWatch Logs, and makes PutMetricFilter replace a filter of the same name (``logs``).

Events
------
``events`` builds the events AWS delivers to the functions: ``alarm_state_change``,
``scheduled_event``, ``parameter_store_change``, ``secret_rotation_step``.

SASL/SCRAM brokers
------------------
``scram_brokers.sync(kafka, secretsmanager)`` plays MSK's sync of associated secrets to the
brokers; ``local_scram_authenticator`` (SCRAM_AUTHENTICATOR
``msk_autopilot_local.emulator.scram_brokers:local_scram_authenticator``) checks a SCRAM
handshake against it (see ``scram_brokers``).

Secret rotation
---------------
``start_rotation(secret_arn)`` stages a new, empty AWSPENDING version of a secret in moto, as
Secrets Manager's RotateSecret does before it calls the rotation function, and returns its token.
``install()`` also makes GetSecretValue without VersionId or VersionStage return the AWSCURRENT
version after UpdateSecretVersionStage moved it, as Secrets Manager does (``secretsmanager``).
"""

from .alarm_actions import evaluate_and_act
from .alarms import AlarmTransition, evaluate_alarms
from .control import EmulatorControl, control, install
from .metrics import broker_dimensions, put_broker_metrics, put_linear_series
from .rotation import start_rotation
from .scram_brokers import ScramBrokers, local_scram_authenticator, scram_brokers
from .seed import SeededFleet, seed_fleet
from .server import EmulatorServer, start_server
from .ticker import EmulatorTicker

__all__ = [
    "AlarmTransition",
    "EmulatorControl",
    "EmulatorServer",
    "EmulatorTicker",
    "ScramBrokers",
    "SeededFleet",
    "broker_dimensions",
    "control",
    "evaluate_alarms",
    "evaluate_and_act",
    "install",
    "local_scram_authenticator",
    "put_broker_metrics",
    "put_linear_series",
    "scram_brokers",
    "seed_fleet",
    "start_rotation",
    "start_server",
]
