"""Concurrent requests get consistent answers, as they do from AWS: moto's backends are plain
dicts, so without the emulator's serialization a listing racing a creation fails with
"dictionary changed size during iteration"."""

import sys
import threading
from collections.abc import Callable

import pytest

WRITERS = 4
ALARMS_EACH = 10


def hammer(client_for: Callable[[], object]) -> list[BaseException]:
    """Writers create alarms while readers list them, all released at once."""
    errors: list[BaseException] = []
    start = threading.Barrier(2 * WRITERS)

    def write(worker: int) -> None:
        cloudwatch = client_for()
        start.wait()
        for index in range(ALARMS_EACH):
            cloudwatch.put_metric_alarm(  # type: ignore[attr-defined]
                AlarmName=f"alarm-{worker}-{index}",
                Namespace="AWS/Kafka",
                MetricName="KafkaDataLogsDiskUsed",
                Statistic="Maximum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=80.0,
                ComparisonOperator="GreaterThanThreshold",
            )

    def read() -> None:
        cloudwatch = client_for()
        start.wait()
        for _ in range(ALARMS_EACH):
            cloudwatch.describe_alarms(MaxRecords=1)  # type: ignore[attr-defined]

    def guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as error:  # reported in the test thread
            errors.append(error)

    threads = [
        threading.Thread(target=guarded, args=(lambda w=w: write(w),)) for w in range(WRITERS)
    ] + [threading.Thread(target=guarded, args=(read,)) for _ in range(WRITERS)]
    # Threads switch every microsecond instead of every 5 ms, so a race shows in a short run.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    return errors


@pytest.mark.parametrize("transport", ["in_process", "http"])
def test_concurrent_writes_and_listings_are_consistent(transport, request):
    kit = request.getfixturevalue("kit" if transport == "in_process" else "http_kit")
    assert hammer(lambda: kit.client("cloudwatch")) == []
    names = {
        alarm["AlarmName"]
        for page in kit.client("cloudwatch").get_paginator("describe_alarms").paginate()
        for alarm in page["MetricAlarms"]
    }
    assert len(names) == WRITERS * ALARMS_EACH
