"""server.properties parsing, validation, canonical rendering and diffs (pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msk_autopilot.config.catalogue import CUSTOMER_SETTABLE
from msk_autopilot.config.desired import name_problem
from msk_autopilot.config.properties import (
    Entry,
    Problem,
    ServerProperties,
    decode_revision,
    diff,
    parse,
    validate,
)


def problems(text: str) -> list[tuple[int, str]]:
    return [(problem.line, problem.message) for problem in validate(text).problems]


def test_java_properties_syntax_is_understood():
    checked = validate(
        "# comment\n"
        "! also a comment\n"
        "   \n"
        "  num.partitions = 6\n"
        "log.retention.hours=1\\\n"
        "    68\n"
        "compression.type=\\u007astd\n"
        "replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector   \n"
    )
    assert checked.valid, checked.problems
    assert checked.properties.as_dict() == {
        "num.partitions": "6",
        "log.retention.hours": "168",
        "compression.type": "zstd",
        "replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector",
    }
    assert [entry.line for entry in checked.properties.entries] == [4, 5, 7, 8]


def test_every_problem_is_reported_with_its_line():
    text = (
        "auto.create.topics.enable=yes\n"  # 1
        "num.partitions: 3\n"  # 2
        "min.insync.replicas 2\n"  # 3
        "num.partitions=4\n"  # 4
        "Log.Retention.Hours=12\n"  # 5
        "listeners=PLAINTEXT://:9092\n"  # 6
        "orphan\n"  # 7
        "=5\n"  # 8
        "message.max.bytes=\\u12\n"  # 9
        "replica.lag.time.max.ms=5000\n"  # 10
        "log.retention.bytes=99999999999999999999\n"  # 11
        "log.cleanup.policy=delete,archive\n"  # 12
        "log.cleaner.min.cleanable.ratio=1.5\n"  # 13
        "replica.selector.class=not a class\n"  # 14
        "compression.type=\n"  # 15
        "unclean.leader.election.enable=true\\"  # 16: continuation at the end
    )
    assert problems(text) == [
        (1, "auto.create.topics.enable must be true or false, not 'yes'"),
        (2, "separate 'num.partitions' from its value with '=', not ':'"),
        (3, "separate 'min.insync.replicas' from its value with '='"),
        (4, "num.partitions is set twice (first on line 2)"),
        (
            5,
            "'Log.Retention.Hours' is not a property MSK lets customers set; "
            "did you mean 'log.retention.hours'?",
        ),
        (6, "'listeners' is not a property MSK lets customers set"),
        (7, "'orphan' is not a key=value pair"),
        (8, "a line starts with a separator and has no key"),
        (9, "malformed \\uxxxx escape in '\\\\u12'"),
        (10, "replica.lag.time.max.ms must be at least 10000, not 5000"),
        (11, "log.retention.bytes 99999999999999999999 does not fit in a Java long"),
        (
            12,
            "log.cleanup.policy must be a comma-separated list of compact, delete; "
            "'archive' is not",
        ),
        (13, "log.cleaner.min.cleanable.ratio must be at most 1, not 1.5"),
        (14, "replica.selector.class must be a fully qualified Java class name, not 'not a class'"),
        (15, "compression.type has an empty value"),
        (16, "the last line ends with a continuation '\\'"),
    ]


def test_an_empty_text_and_a_byte_order_mark_are_problems():
    assert problems("# only comments\n\n") == [(0, "sets no properties; MSK needs at least one")]
    assert problems("\ufeffnum.partitions=3\n") == [
        (1, "starts with a byte-order mark; save the file without one")
    ]


def test_the_kafka_versions_directive():
    checked = validate(
        "# msk-autopilot:kafka-versions = 3.6.0, 3.7.x.kraft ,2.8.2.tiered\nnum.partitions=1"
    )
    assert checked.valid
    assert checked.properties.kafka_versions == ("3.6.0", "3.7.x.kraft", "2.8.2.tiered")
    assert validate("num.partitions=1").properties.kafka_versions == ()
    # an ordinary comment that mentions the tool is just a comment
    assert validate("# msk-autopilot: owned by the platform team\nnum.partitions=1").valid


def test_directive_mistakes_are_reported():
    text = (
        "# msk-autopilot:kafka-version = 3.6.0\n"
        "# msk-autopilot:kafka-versions = 3.6, 3.6.0, 3.6.0\n"
        "# msk-autopilot:kafka-versions =\n"
        "num.partitions=1\n"
    )
    assert problems(text) == [
        (
            1,
            "unknown directive 'msk-autopilot:kafka-version'; the one directive is "
            "'# msk-autopilot:kafka-versions = 3.6.0, 3.7.x'",
        ),
        (2, "'3.6' is not an Apache Kafka version such as 3.6.0 or 3.7.x"),
        (2, "msk-autopilot:kafka-versions lists a version twice"),
        (3, "msk-autopilot:kafka-versions lists no versions"),
        (3, "msk-autopilot:kafka-versions is given twice"),
    ]


def test_rendering_is_canonical_and_parses_back():
    checked = validate("# c\nlog.retention.hours = 168 \nnum.partitions=6\n")
    assert checked.properties.render() == "log.retention.hours=168\nnum.partitions=6\n"
    assert (
        decode_revision(checked.properties.render().encode())
        == parse("log.retention.hours=168\nnum.partitions=6\n").properties
    )


@given(
    st.dictionaries(
        st.sampled_from(sorted(CUSTOMER_SETTABLE)),
        st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30).map(str.strip),
        max_size=12,
    )
)
def test_any_properties_survive_rendering_and_revision_bytes(values):
    properties = ServerProperties(tuple(Entry(k, v, n) for n, (k, v) in enumerate(values.items())))
    rendered = properties.render()
    assert rendered.isascii()
    reparsed = parse(rendered)
    assert reparsed.problems == ()
    assert reparsed.properties.as_dict() == values
    assert decode_revision(rendered.encode("iso-8859-1")).as_dict() == values


@given(st.text(max_size=400))
def test_parsing_never_fails_and_problems_point_at_real_lines(text):
    checked = validate(text)
    lines = max(1, len(text.splitlines()) + 1)
    assert all(0 <= problem.line <= lines for problem in checked.problems)


def test_diff_names_each_change():
    changes = diff(
        {"log.retention.hours": "168", "num.partitions": "3", "delete.topic.enable": "true"},
        {"log.retention.hours": "72", "num.partitions": "3", "min.insync.replicas": "2"},
    )
    assert changes.summary() == [
        "+ min.insync.replicas=2",
        "- delete.topic.enable=true",
        "~ log.retention.hours: 168 -> 72",
    ]
    assert not diff({"a": "1"}, {"a": "1"})


def test_problem_locations_read_like_compiler_output():
    assert Problem(3, "bad").located("orders.properties") == "orders.properties:3: bad"
    assert Problem(0, "empty").located("orders.properties") == "orders.properties: empty"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("orders", None),
        ("orders-2", None),
        ("x" * 50, None),
        ("x" * 51, "configuration name '" + "x" * 51 + "' is longer than 50 characters"),
        ("-orders", "must start with a letter or digit"),
        ("orders_eu", "must start with a letter or digit"),
        ("team/orders", "must start with a letter or digit"),
        ("orders\n", "must start with a letter or digit"),
    ],
)
def test_configuration_names_follow_msk_rules(name, problem):
    found = name_problem(name)
    assert (found is None) if problem is None else (problem in found)
