"""Lag is what is left to commit: each partition's high watermark minus the group's committed
offset, on the real local broker."""

import io

from esm_kit import Recorder, Sent, create_topic, produce

from msk_autopilot_local.esm import run_poller


def test_lag_is_zero_when_every_partition_is_committed_to_its_high_watermark(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers, partitions=3)
    produce(kafka.bootstrap_servers, [Sent(topic, i % 3, None, b"x") for i in range(300)])
    config = config_for(topic, Recorder())
    first = run_poller(config, status_stream=io.StringIO())
    assert first.committed == {f"{topic}-{p}": 100 for p in range(3)}
    assert first.lag == 0

    # New records on one partition only: the other two were committed by the earlier run and
    # count as caught up, not as lagging from their first offset.
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"y") for _ in range(10)])
    status = io.StringIO()
    second = run_poller(config, status_stream=status)
    assert second.committed == {f"{topic}-0": 110}
    assert second.lag == 0
    assert "| lag 0 |" in second.final_line()
    assert "| lag 0 |" in status.getvalue().splitlines()[-1]


def test_lag_counts_the_records_not_yet_committed(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers, partitions=2)
    produce(kafka.bootstrap_servers, [Sent(topic, i % 2, None, b"x") for i in range(40)])
    handler = Recorder()
    summary = run_poller(
        config_for(topic, handler, batch_size=15, max_batches=1, until_idle=None),
        status_stream=io.StringIO(),
    )
    assert summary.records_succeeded == 15
    assert summary.lag == 40 - 15
