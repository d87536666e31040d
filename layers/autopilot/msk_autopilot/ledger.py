"""Notices already sent, in the stack's idempotency table: notify once per window, not per run.

A reconciler that sees the same problem every run (a configuration that cannot roll out, a gate
that holds a change) records the notice under a key with a conditional write: the write that
creates the item, or replaces one whose expiration has passed (DynamoDB TTL sweeps lazily), wins
and notifies; every other run and every concurrent duplicate sees the record and stays quiet.
`forget` ends a notice early, so the next occurrence is news again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import error_code

__all__ = ["NoticeLedger", "claim"]

_BATCH = 25  # BatchWriteItem's limit


def claim(dynamodb: Any, table: str, item: dict[str, Any], now: datetime) -> bool:
    """Write `item` unless a live one (not yet expired) has its `id`; True when written."""
    try:
        dynamodb.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(id) OR expiration < :now",
            ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
        )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


class NoticeLedger(msgspec.Struct):
    dynamodb: Any
    table: str
    namespace: str  # keeps one function's notices apart from another's

    def _id(self, key: str) -> dict[str, str]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return {"S": f"{self.namespace}#notice#{digest}"}

    def first(self, key: str, *, now: datetime, window: timedelta) -> bool:
        """True when no notice with `key` was recorded within `window` (and records it now)."""
        item = {
            "id": self._id(key),
            "expiration": {"N": str(int((now + window).timestamp()))},
            "notice": {"S": key[:1024]},
        }
        return claim(self.dynamodb, self.table, item, now)

    def forget(self, keys: Iterable[str]) -> None:
        """End these notices now (absent ones are fine)."""
        requests = [{"DeleteRequest": {"Key": {"id": self._id(key)}}} for key in keys]
        for start in range(0, len(requests), _BATCH):
            pending: dict[str, Any] = {self.table: requests[start : start + _BATCH]}
            while pending:  # DynamoDB may hand back unprocessed items under load
                response = self.dynamodb.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
