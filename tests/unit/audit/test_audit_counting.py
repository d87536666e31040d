"""API calls are counted per block, with botocore's before-call event, once per call."""

import boto3
from moto import mock_aws

from msk_autopilot.audit.collect import counted, counting_api_calls


def test_calls_are_counted_by_operation_and_blocks_nest(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        sqs = counted(counted(boto3.client("sqs", region_name="us-east-1")))  # twice: no-op
        sqs.list_queues()  # outside any block: not counted anywhere
        with counting_api_calls() as outer:
            sqs.list_queues()
            with counting_api_calls() as inner:
                sqs.create_queue(QueueName="q")
                sqs.list_queues()

    assert dict(inner) == {"sqs.CreateQueue": 1, "sqs.ListQueues": 1}
    assert dict(outer) == {"sqs.CreateQueue": 1, "sqs.ListQueues": 2}
