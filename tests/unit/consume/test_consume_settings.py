"""RecordConsumerSettings: each variable parsed, and combinations that cannot work refused."""

import pytest
from consume_support import BASE_ENV, settings

from msk_autopilot.consume import build_record_consumer
from msk_autopilot.settings import RecordConsumerSettings, SettingsError, load


def test_defaults_archive_raw_records_to_s3():
    loaded = settings()
    assert (loaded.value_format, loaded.key_format, loaded.sink) == ("raw", "raw", "s3")
    assert loaded.schema_registry_url == ""
    assert loaded.max_value_bytes == 1_048_576
    assert loaded.value_schema is None
    assert loaded.record_hook == ""


def test_every_problem_is_named_at_once(tmp_path):
    env = {
        **BASE_ENV,
        "ARCHIVE_BUCKET": "",
        "VALUE_FORMAT": "xml",
        "KEY_SCHEMA": str(tmp_path / "missing.json"),
        "SCHEMA_REGISTRY_URL": "ftp://registry",
        "RECORD_HOOK": "no colon",
        "MAX_VALUE_BYTES": "0",
    }
    del env["FAILURE_BUCKET"]
    with pytest.raises(SettingsError) as caught:
        load(RecordConsumerSettings, env)
    message = str(caught.value)
    for expected in (
        "VALUE_FORMAT='xml' must be one of raw, json, avro, confluent-avro, confluent-json, "
        "confluent-protobuf, glue-avro, glue-json",
        "KEY_SCHEMA=",
        "must name an existing schema file",
        "SCHEMA_REGISTRY_URL='ftp://registry' must be an http:// or https:// URL",
        "RECORD_HOOK='no colon' must be module:function",
        "MAX_VALUE_BYTES='0' must be between 1 and 6291456",
        "FAILURE_BUCKET is required",
    ):
        assert expected in message


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"ARCHIVE_BUCKET": ""}, "ARCHIVE_BUCKET is required when SINK=s3"),
        ({"SINK": "eventbridge"}, "EVENT_BUS_NAME is required when SINK=eventbridge"),
        ({"VALUE_FORMAT": "avro"}, "VALUE_FORMAT=avro needs VALUE_SCHEMA"),
        ({"KEY_FORMAT": "avro"}, "KEY_FORMAT=avro needs KEY_SCHEMA"),
        (
            {"VALUE_FORMAT": "confluent-protobuf"},
            "VALUE_FORMAT=confluent-protobuf needs SCHEMA_REGISTRY_URL",
        ),
        ({"KEY_FORMAT": "confluent-avro"}, "KEY_FORMAT=confluent-avro needs SCHEMA_REGISTRY_URL"),
    ],
)
def test_combinations_that_cannot_work_fail_the_cold_start(env, problem):
    with pytest.raises(SettingsError, match=problem):
        settings(**env)


@pytest.mark.parametrize("payload_format", ["raw", "confluent-json", "confluent-protobuf"])
def test_a_schema_file_with_a_format_it_does_not_apply_to_is_refused(tmp_path, payload_format):
    schema = tmp_path / "s.json"
    schema.write_text("{}")
    with pytest.raises(
        SettingsError, match="VALUE_SCHEMA applies only to VALUE_FORMAT=json, avro or \\*-avro"
    ):
        settings(
            VALUE_FORMAT=payload_format,
            VALUE_SCHEMA=str(schema),
            SCHEMA_REGISTRY_URL="http://127.0.0.1:8081",
        )


def test_unusable_schema_files_and_hooks_fail_the_pipeline_build(tmp_path, clients):
    not_json = tmp_path / "broken.json"
    not_json.write_text("{nope")
    not_avro = tmp_path / "broken.avsc"
    not_avro.write_text('{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nah"}]}')
    loaded = settings(
        VALUE_FORMAT="json",
        VALUE_SCHEMA=str(not_json),
        KEY_FORMAT="avro",
        KEY_SCHEMA=str(not_avro),
        RECORD_HOOK="no_such_module_anywhere:hook",
    )
    with pytest.raises(SettingsError) as caught:
        build_record_consumer(loaded, clients)
    assert [problem.split(" cannot")[0] for problem in caught.value.problems] == [
        f"KEY_SCHEMA={not_avro}",
        f"VALUE_SCHEMA={not_json}",
        "RECORD_HOOK='no_such_module_anywhere:hook'",
    ]
