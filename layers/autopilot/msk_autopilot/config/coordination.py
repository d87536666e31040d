"""What runs of one function share, in the stack's idempotency table.

`RunLease`: one run at a time. Events come in bursts (a push of five files is five Parameter
Store events, and every update the rotator starts comes back as a CloudTrail event), and two
overlapping runs could both add the same revision. A run takes the lease before it reads
anything and waits briefly for it otherwise; a crashed run's lease simply expires. Each function
leases under its own `namespace` (the version upgrader uses this lease too). Reserved
concurrency would serialise runs too, but by throttling, which the stack alarms on.

The lease is one conditional write (`msk_autopilot.ledger.claim`) on an item keyed `id`, with
DynamoDB TTL on `expiration`. Notices sent once per window live in `msk_autopilot.ledger`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import error_code
from msk_autopilot.clock import now as clock_now
from msk_autopilot.ledger import claim
from msk_autopilot.observability import logger
from msk_autopilot.outcome import Outcome, Status

__all__ = ["RunLease"]

NAMESPACE = "config-rotator"


class RunLease(msgspec.Struct):
    dynamodb: Any
    table: str
    namespace: str = NAMESPACE
    # Longer than the function's timeout, so only a crashed run's lease ever expires.
    duration: timedelta = timedelta(seconds=150)
    wait: timedelta = timedelta(seconds=60)
    owner: str = msgspec.field(default_factory=lambda: str(uuid.uuid4()))
    clock: Callable[[], datetime] = clock_now
    sleep: Callable[[float], None] = time.sleep

    @property
    def _id(self) -> dict[str, str]:
        return {"S": f"{self.namespace}#lease"}

    def acquire(self) -> bool:
        """Take the lease, waiting up to `wait` for another run to give it back."""
        deadline = self.clock() + self.wait
        while True:
            now = self.clock()
            item = {
                "id": self._id,
                "owner": {"S": self.owner},
                "expiration": {"N": str(int((now + self.duration).timestamp()))},
            }
            if claim(self.dynamodb, self.table, item, now):
                return True
            if now >= deadline:
                return False
            self.sleep(1.0)

    def run_alone[T](self, run: Callable[[], T], *, event_kind: str, meanwhile: str) -> T | Outcome:
        """`run()` while holding the lease; a skip saying `meanwhile` (what becomes of this
        trigger) when another run holds it past the wait."""
        if not self.acquire():
            logger.warning("another run still holds the lease")
            return Outcome(
                Status.SKIPPED,
                f"another run still holds the lease; {meanwhile}",
                {"event": event_kind},
            )
        try:
            return run()
        finally:
            self.release()

    def release(self) -> None:
        try:
            self.dynamodb.delete_item(
                TableName=self.table,
                Key={"id": self._id},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": self.owner}},
            )
        except ClientError as error:
            # Expired and taken by another run: it is that run's lease now.
            if error_code(error) != "ConditionalCheckFailedException":
                raise
