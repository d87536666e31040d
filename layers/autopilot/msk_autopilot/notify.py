"""SNS notifications: what changed, or what needs a human, with a `Severity` to filter on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import msgspec

from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Severity

__all__ = ["Notifier"]

_SUBJECT_LIMIT = 100  # SNS rejects longer subjects


class Notifier(msgspec.Struct):
    sns: Any
    topic_arn: str

    def publish(self, subject: str, details: Mapping[str, Any], severity: Severity) -> None:
        """Publish a JSON message; subscribers can filter on the `severity` attribute."""
        subject_line = f"[msk-autopilot {severity.value}] {subject}"
        if len(subject_line) > _SUBJECT_LIMIT:
            subject_line = subject_line[: _SUBJECT_LIMIT - 3] + "..."
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=subject_line.encode("ascii", "replace").decode("ascii"),
            Message=json.dumps(
                {"subject": subject, "severity": severity.value, **details}, default=str
            ),
            MessageAttributes={"severity": {"DataType": "String", "StringValue": severity.value}},
        )
        logger.info("notified", extra={"subject": subject, "severity": severity.value})
        metrics.add_metric(name=f"Notifications.{severity.value}", unit=MetricUnit.Count, value=1)
