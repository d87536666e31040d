"""The application's own AWS resources (topic, queues, tables, buckets), created in the emulator
under the names `ResolvedTemplate` resolves, so functions run locally find what the template
declares.
"""

from __future__ import annotations

from typing import Any

from msk_autopilot_local.template.resolve import ResolvedTemplate

__all__ = ["create_app_resources"]


def create_app_resources(stack: ResolvedTemplate, clients: Any) -> dict[str, str]:
    """Create every topic, queue, table and bucket of the template; returns logical ID -> name.

    `clients` is anything with `.client(service)` (a boto3 Session or the core's
    ClientFactory). Creating what already exists is a no-op, so this can run again.
    """
    created: dict[str, str] = {}
    for logical_id, resource in stack.resources.items():
        kind = resource["Type"]
        name = stack.physical_name(logical_id)
        properties = resource.get("Properties", {})
        if kind == "AWS::SNS::Topic":
            clients.client("sns").create_topic(Name=name)
        elif kind == "AWS::SQS::Queue":
            clients.client("sqs").create_queue(QueueName=name)
        elif kind == "AWS::S3::Bucket":
            s3 = clients.client("s3")
            if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
                s3.create_bucket(Bucket=name)
        elif kind == "AWS::DynamoDB::Table":
            dynamodb = clients.client("dynamodb")
            if name not in dynamodb.list_tables()["TableNames"]:
                dynamodb.create_table(
                    TableName=name,
                    KeySchema=properties["KeySchema"],
                    AttributeDefinitions=properties["AttributeDefinitions"],
                    BillingMode="PAY_PER_REQUEST",
                )
        else:
            continue
        created[logical_id] = name
    return created
