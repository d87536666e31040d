"""Events for the fuzzed handlers: valid ones about the world's fleet, and mutations of them.

Valid events are built as AWS builds them (the emulator's event factories, the samples in
events/), at the world's time, and name a real cluster or secret of the fleet some of the time
(`sampled_from`), a random one the rest. Half of them are then mutated: keys removed, values
replaced by other JSON types, empty and huge values. Record batches are consistent, as Lambda
delivers them, with values of every kind: JSON, invalid JSON, NaN, deep nesting, binary, over
MAX_VALUE_BYTES, tombstones; headers; null keys.
"""

import base64
import json
import urllib.parse
from typing import Any

from fuzz_world import ACCOUNT, CONFIGURATION, REGION, ROOT, FuzzWorld
from hypothesis import strategies as st

from msk_autopilot_local.emulator.events import (
    disk_alarm_state_change,
    event_time,
    parameter_store_change,
    scheduled_event,
    secret_rotation_step,
)

MAX_VALUE_BYTES = 65_536  # the record consumer's limit in the fuzz, so "huge" stays cheap
# Past msgspec's depth (10,000 levels raised RecursionError before hardening defect 4): poison.
MAX_NESTING = 20_000

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
odd_values = st.sampled_from(["", "x" * 100_000, -1, 2**63, [], {}, None, "arn:aws:kafka:::"])
random_cluster_arns = st.builds(
    "arn:aws:kafka:{}:123456789012:cluster/{}/{}-1".format,
    st.sampled_from([REGION, "eu-west-1"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    st.uuids().map(str),
)


def _sample(name: str) -> Any:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def _cluster_arns(world: FuzzWorld) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(world.clusters.values())) | random_cluster_arns


def _cloudtrail(arn: str, event_name: str) -> dict[str, Any]:
    event = _sample("cloudtrail_update_monitoring")
    event["detail"]["eventName"] = event_name
    event["detail"]["requestParameters"]["clusterArn"] = urllib.parse.quote(arn, safe="")
    event["detail"]["responseElements"]["clusterArn"] = arn
    return event


@st.composite
def _alarm(draw: st.DrawFn, world: FuzzWorld) -> dict[str, Any]:
    arn = draw(_cluster_arns(world))
    return disk_alarm_state_change(
        cluster_arn=arn,
        cluster_name=arn.split("/")[1],
        broker=draw(st.sampled_from(["1", "2", "3"])),
        time=world.emulator.clock.now(),
        state=draw(st.sampled_from(["ALARM", "ALARM", "OK", "INSUFFICIENT_DATA"])),
        prefix=world.alarm_prefix,
    )


def _schedule(world: FuzzWorld) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda rule: scheduled_event(
            rule_arn=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}",
            time=world.emulator.clock.now(),
        ),
        st.sampled_from(["fuzz-sweep", "msk-autopilot-audit"]),
    ) | st.just(_sample("scheduler_event"))


def _valid_events(world: FuzzWorld, function: str) -> st.SearchStrategy[Any]:
    arns = _cluster_arns(world)
    changes = st.sampled_from(["UpdateConnectivity", "UpdateMonitoring", "UpdateSecurity"])
    if function in {"storage_scaler", "broker_scaler"}:
        request = st.fixed_dictionaries(
            {"action": st.just("scale"), "clusterArn": arns, "dryRun": st.booleans()}
        )
        return _alarm(world) | _schedule(world) | request
    if function == "config_rotator":
        parameter = st.builds(
            lambda name, operation: parameter_store_change(
                name=f"{world.parameter_prefix}{name}",
                time=world.emulator.clock.now(),
                account=ACCOUNT,
                region=REGION,
                operation=operation,
            ),
            st.just(CONFIGURATION) | st.from_regex(r"[a-z]{1,12}", fullmatch=True),
            st.sampled_from(["Create", "Update", "Delete"]),
        )
        return parameter | st.builds(_cloudtrail, arns, changes) | _schedule(world)
    if function == "scram_rotator":
        return _rotation_step(world)
    if function == "security_auditor":
        return st.builds(_cloudtrail, arns, changes) | _schedule(world)
    if function == "health_monitor":
        kept = st.sampled_from(["CreateClusterV2", "DeleteCluster", "TagResource", "UntagResource"])
        return st.builds(_cloudtrail, arns, kept | changes) | _schedule(world)
    if function == "version_upgrader":
        upgrades = st.builds(_cloudtrail, arns, st.just("UpdateClusterKafkaVersion") | changes)
        now = event_time(world.emulator.clock.now())
        return upgrades.map(lambda event: {**event, "time": now}) | _schedule(world)
    return kafka_batches(world)


@st.composite
def _rotation_step(draw: st.DrawFn, world: FuzzWorld) -> dict[str, str]:
    known = draw(st.booleans())
    if known:
        secret = draw(st.sampled_from(sorted(world.secrets.values())))
        token = world.pending[secret] if draw(st.booleans()) else str(draw(st.uuids()))
    else:
        secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:AmazonMSK_{draw(st.uuids())}"
        token = str(draw(st.uuids()))
    step = draw(st.sampled_from(["createSecret", "setSecret", "testSecret", "finishSecret"]))
    return secret_rotation_step(step, secret_id=secret, token=token)


# --- record batches ------------------------------------------------------------------------

payloads = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"NaN", b'{"x": NaN}', b"[1, -Infinity]", b"{", b"", b'"open', b"\xff"]),
    st.integers(1, MAX_NESTING).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, MAX_NESTING).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(MAX_VALUE_BYTES - 2, MAX_VALUE_BYTES + 2).map(lambda size: b"7" * size),
)
headers = st.lists(
    st.dictionaries(
        st.text(max_size=10),
        st.lists(st.integers(0, 255), max_size=8) | st.lists(st.integers(), max_size=2),
        min_size=1,
        max_size=1,
    ),
    max_size=3,
)
timestamps = st.integers(0, 253_402_300_799_999) | st.sampled_from([-1, 2**63 - 1])


def _b64(payload: bytes | None) -> str | None:
    return None if payload is None else base64.b64encode(payload).decode()


@st.composite
def _partition(draw: st.DrawFn, topic: str, partition: int) -> list[dict[str, Any]]:
    first = draw(st.integers(0, 2**40))
    return [
        {
            "topic": topic,
            "partition": partition,
            "offset": first + index,
            "timestamp": draw(timestamps),
            "timestampType": draw(st.sampled_from(["CREATE_TIME", "LOG_APPEND_TIME"])),
            "key": _b64(draw(st.none() | st.binary(max_size=16))),
            "value": _b64(draw(st.none() | payloads)),
            "headers": draw(headers),
        }
        for index in range(draw(st.integers(1, 6)))
    ]


@st.composite
def kafka_batches(draw: st.DrawFn, world: FuzzWorld) -> dict[str, Any]:
    """A consistent MSK batch: each partition's records carry its topic and partition."""
    keys = draw(
        st.lists(
            st.tuples(st.from_regex(r"[a-z][a-z.-]{0,10}", fullmatch=True), st.integers(0, 5)),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": draw(_cluster_arns(world)),
        "bootstrapServers": "b-1.fuzz.kafka.us-east-1.amazonaws.com:9098",
        "records": {
            f"{topic}-{partition}": draw(_partition(topic, partition)) for topic, partition in keys
        },
    }


# --- mutations -------------------------------------------------------------------------------


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def apply(event: Any, path: tuple, action: str, value: Any) -> Any:
    parent = event
    for step in path[:-1]:
        parent = parent[step]
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return event


@st.composite
def events(draw: st.DrawFn, world: FuzzWorld, function: str) -> Any:
    """A valid event about the world, or (half the time) a mutation of one."""
    event = draw(_valid_events(world, function))
    if draw(st.booleans()):
        return event
    for _ in range(draw(st.integers(1, 3))):
        candidates = paths(event)
        if function == "record_consumer":
            # Records stay well formed, so that each can be found again by its offset.
            candidates = [path for path in candidates if len(path) == 1]
        if not candidates or not isinstance(event, dict):
            break
        path = draw(st.sampled_from(candidates))
        action = draw(st.sampled_from(["delete", "replace", "odd"]))
        value = draw(odd_values if action == "odd" else json_values)
        event = apply(event, path, action, value)
    return draw(st.sampled_from([event, event, event, [event], "not json", None]))
