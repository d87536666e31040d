"""CloudWatch Logs query definitions, which moto lacks, and metric filters as CloudWatch Logs
keeps them, through botocore."""

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def logs(kit):
    return kit.client("logs")


def test_query_definitions_are_created_updated_listed_by_prefix_and_deleted(logs):
    errors = logs.put_query_definition(
        name="msk-autopilot/orders/errors",
        queryString="fields @timestamp, @message | filter @message like /ERROR/",
        logGroupNames=["msk-orders"],
    )["queryDefinitionId"]
    other = logs.put_query_definition(name="team/other", queryString="fields @message")[
        "queryDefinitionId"
    ]

    same = logs.put_query_definition(
        queryDefinitionId=errors,
        name="msk-autopilot/orders/errors",
        queryString="fields @message | filter @message like /ERROR|FATAL/",
        logGroupNames=["msk-orders"],
    )["queryDefinitionId"]
    [listed] = logs.describe_query_definitions(queryDefinitionNamePrefix="msk-autopilot/")[
        "queryDefinitions"
    ]

    assert same == errors != other
    assert listed["queryDefinitionId"] == errors
    assert listed["queryString"] == "fields @message | filter @message like /ERROR|FATAL/"
    assert listed["logGroupNames"] == ["msk-orders"]
    assert isinstance(listed["lastModified"], int)
    assert logs.delete_query_definition(queryDefinitionId=errors)["success"] is True
    assert logs.delete_query_definition(queryDefinitionId=other)["success"] is True
    assert logs.describe_query_definitions()["queryDefinitions"] == []


def test_unknown_query_definitions_are_not_found(logs):
    for call, kwargs in [
        (logs.delete_query_definition, {"queryDefinitionId": "nope"}),
        (logs.put_query_definition, {"queryDefinitionId": "nope", "name": "n", "queryString": "q"}),
    ]:
        with pytest.raises(ClientError) as caught:
            call(**kwargs)
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_describe_query_definitions_pages(logs):
    for number in range(3):
        logs.put_query_definition(name=f"q{number}", queryString="fields @message")

    first = logs.describe_query_definitions(maxResults=2)
    second = logs.describe_query_definitions(maxResults=2, nextToken=first["nextToken"])

    assert [d["name"] for d in first["queryDefinitions"]] == ["q0", "q1"]
    assert [d["name"] for d in second["queryDefinitions"]] == ["q2"]
    assert "nextToken" not in second


def test_a_metric_filter_put_again_is_replaced_and_deleted(logs):
    logs.create_log_group(logGroupName="msk-orders")
    transformation = {"metricName": "IsrShrinks", "metricNamespace": "MskAutopilot",
                      "metricValue": "1"}  # fmt: skip
    for pattern in ('"Shrinking ISR"', '"Shrinking ISR from"'):
        logs.put_metric_filter(
            logGroupName="msk-orders",
            filterName="isr-shrink",
            filterPattern=pattern,
            metricTransformations=[transformation],
        )

    [kept] = logs.describe_metric_filters(logGroupName="msk-orders")["metricFilters"]
    logs.delete_metric_filter(logGroupName="msk-orders", filterName="isr-shrink")

    assert kept["filterPattern"] == '"Shrinking ISR from"'
    assert kept["metricTransformations"] == [transformation]
    assert isinstance(kept["creationTime"], int)
    assert logs.describe_metric_filters(logGroupName="msk-orders")["metricFilters"] == []
    with pytest.raises(ClientError) as caught:
        logs.put_metric_filter(
            logGroupName="no-such-group",
            filterName="f",
            filterPattern="ERROR",
            metricTransformations=[transformation],
        )
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
