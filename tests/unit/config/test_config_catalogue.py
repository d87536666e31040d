"""The catalogue of properties MSK lets customers set, and its value checks."""

import pytest

from msk_autopilot.config.catalogue import CUSTOMER_SETTABLE

# The "Custom Amazon MSK configurations" table (msk-configuration-properties.html), plus the two
# Kafka 3.6 successors of log.message.timestamp.difference.max.ms that its row names.
MSK_TABLE = {
    "allow.everyone.if.no.acl.found", "auto.create.topics.enable", "compression.type",
    "connections.max.idle.ms", "default.replication.factor", "delete.topic.enable",
    "group.initial.rebalance.delay.ms", "group.max.session.timeout.ms",
    "group.min.session.timeout.ms", "leader.imbalance.per.broker.percentage",
    "log.cleaner.delete.retention.ms", "log.cleaner.min.cleanable.ratio", "log.cleanup.policy",
    "log.flush.interval.messages", "log.flush.interval.ms",
    "log.message.timestamp.difference.max.ms", "log.message.timestamp.type",
    "log.retention.bytes", "log.retention.hours", "log.retention.minutes", "log.retention.ms",
    "log.roll.ms", "log.segment.bytes", "max.incremental.fetch.session.cache.slots",
    "message.max.bytes", "min.insync.replicas", "num.io.threads", "num.network.threads",
    "num.partitions", "num.recovery.threads.per.data.dir", "num.replica.fetchers",
    "offsets.retention.minutes", "offsets.topic.replication.factor", "replica.fetch.max.bytes",
    "replica.fetch.response.max.bytes", "replica.lag.time.max.ms", "replica.selector.class",
    "replica.socket.receive.buffer.bytes", "socket.receive.buffer.bytes",
    "socket.request.max.bytes", "socket.send.buffer.bytes", "transaction.max.timeout.ms",
    "transaction.state.log.min.isr", "transaction.state.log.replication.factor",
    "transactional.id.expiration.ms", "unclean.leader.election.enable",
    "zookeeper.connection.timeout.ms", "zookeeper.session.timeout.ms",
}  # fmt: skip


def test_the_catalogue_is_msks_list():
    assert set(CUSTOMER_SETTABLE) - MSK_TABLE == {
        "log.message.timestamp.after.max.ms",
        "log.message.timestamp.before.max.ms",
    }
    assert set(CUSTOMER_SETTABLE) >= MSK_TABLE


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("auto.create.topics.enable", "TRUE"),
        ("compression.type", "producer"),
        ("log.cleanup.policy", "compact, delete"),
        ("log.retention.ms", "-1"),
        ("socket.send.buffer.bytes", "-1"),
        ("log.cleaner.min.cleanable.ratio", "0.5"),
        ("log.cleaner.min.cleanable.ratio", "1"),
        ("offsets.topic.replication.factor", "32767"),
        ("message.max.bytes", "2147483647"),
        ("log.retention.bytes", "9223372036854775807"),
        ("replica.lag.time.max.ms", "30000"),
        ("zookeeper.session.timeout.ms", "6000"),
        ("leader.imbalance.per.broker.percentage", "100"),
    ],
)
def test_valid_values(key, value):
    assert CUSTOMER_SETTABLE[key].problem(value) is None


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("delete.topic.enable", "1", "must be true or false, not '1'"),
        ("num.partitions", "0", "must be at least 1, not 0"),
        ("num.partitions", "3.5", "must be a whole number (int), not '3.5'"),
        ("message.max.bytes", "2147483648", "2147483648 does not fit in a Java int"),
        ("offsets.topic.replication.factor", "32768", "32768 does not fit in a Java short"),
        ("replica.lag.time.max.ms", "30001", "must be at most 30000, not 30001"),
        ("zookeeper.connection.timeout.ms", "5999", "must be at least 6000, not 5999"),
        ("log.cleaner.min.cleanable.ratio", "half", "must be a number, not 'half'"),
        ("log.message.timestamp.type", "createtime", "must be one of CreateTime, LogAppendTime"),
        ("socket.receive.buffer.bytes", "-2", "must be at least -1, not -2"),
        ("replica.selector.class", "RackAware", "must be a fully qualified Java class name"),
        ("num.io.threads", "  ", "has an empty value"),
    ],
)
def test_invalid_values(key, value, problem):
    assert problem in CUSTOMER_SETTABLE[key].problem(value)
