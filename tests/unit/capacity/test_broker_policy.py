"""The broker policy: each rule, its refusals, and properties over random shapes and loads."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msk_autopilot.capacity import sizes
from msk_autopilot.capacity.guidance import throughput_guidance
from msk_autopilot.capacity.policy import (
    BrokerAction,
    BrokerPolicySettings,
    BrokerSample,
    ClusterShape,
    decide,
)
from msk_autopilot.health.change import ChangeKind

MB = 1_000_000
QUIET_HOURS = 14 * 24


def shape(instance_type="kafka.m5.xlarge", count=3, zones=3, partitions=500, **extra):
    return ClusterShape(
        instance_type=instance_type,
        broker_count=count,
        zone_count=zones,
        partitions_per_broker=partitions,
        **extra,
    )


def history(hours, *, cpu=10.0, mb_in=0.1, mb_out=0.1, throttle=0.0, brokers=3, last=None):
    """`hours` equal samples per broker; `last` (cpu, mb_in, mb_out, throttle) overrides the
    final hours given as a list."""
    samples = [BrokerSample(cpu, mb_in * MB, mb_out * MB, throttle)] * hours
    for offset, values in enumerate(reversed(last or [])):
        samples[-1 - offset] = BrokerSample(values[0], values[1] * MB, values[2] * MB, values[3])
    return {str(broker): list(samples) for broker in range(1, brokers + 1)}


# --- Standard, up --------------------------------------------------------------------------------


def test_sustained_cpu_moves_a_standard_cluster_one_size_up():
    decision = decide(shape(), history(24, last=[(70, 1, 1, 0)] * 2))
    assert decision.action is BrokerAction.TYPE_LARGER
    assert decision.target_type == "kafka.m5.2xlarge"
    assert decision.target_count == 3
    assert decision.change is ChangeKind.BROKER_TYPE_LARGER
    assert decision.carried_out
    assert "above 60 % in 2 of the last 3 hours (latest 70 %)" in decision.reason
    assert "kafka.m5.xlarge x 3 -> kafka.m5.2xlarge x 3" in decision.reason


def test_one_busy_hour_is_not_sustained():
    decision = decide(shape(), history(24, last=[(90, 1, 1, 0)]))
    assert decision.action is BrokerAction.NO_CHANGE


def test_only_the_busiest_broker_needs_to_be_hot():
    samples = history(24)
    samples["2"][-3:] = [BrokerSample(75, MB, MB)] * 3
    assert decide(shape(), samples).action is BrokerAction.TYPE_LARGER


def test_throughput_above_the_size_guidance_moves_up_one_size():
    guidance = throughput_guidance("kafka.m5.xlarge")
    assert guidance is not None
    assert guidance.ingress_mbps == 9.6
    decision = decide(shape(), history(24, cpu=40, mb_in=12, mb_out=5))
    assert decision.action is BrokerAction.TYPE_LARGER
    assert "exceeded the size's guidance in 3 of the last 3 hours (latest 125 %" in decision.reason


def test_t3_grows_to_m7g():
    decision = decide(shape("kafka.t3.small", partitions=100), history(5, cpu=80))
    assert decision.target_type == "kafka.m7g.large"


def test_at_the_top_size_a_hot_cluster_is_recommended_more_brokers():
    decision = decide(shape("kafka.m7g.16xlarge", count=6), history(5, cpu=80))
    assert decision.action is BrokerAction.COUNT_UP
    assert (decision.target_type, decision.target_count) == ("kafka.m7g.16xlarge", 9)
    assert not decision.carried_out
    assert "has not opted in" in decision.reason


def test_too_many_partitions_per_broker_recommend_scale_out_or_carry_it_out_when_opted_in():
    recommended = decide(shape(partitions=1200), history(5))
    assert recommended.action is BrokerAction.COUNT_UP
    assert recommended.target_count == 6
    assert not recommended.carried_out
    assert "1200 partitions per broker exceed the 1000 recommended" in recommended.reason
    opted_in = decide(shape(partitions=1200, scale_out_opted_in=True), history(5))
    assert opted_in.carried_out
    assert opted_in.change is ChangeKind.BROKER_COUNT_UP


def test_heat_goes_before_partitions():
    decision = decide(shape(partitions=1200), history(5, cpu=80))
    assert decision.action is BrokerAction.TYPE_LARGER


def test_too_short_a_history_decides_nothing():
    decision = decide(shape(), history(2, cpu=95))
    assert decision.action is BrokerAction.NO_CHANGE
    assert "Only 2 hours" in decision.reason


# --- Standard, down ------------------------------------------------------------------------------


def test_a_quiet_fortnight_moves_a_standard_cluster_one_size_down():
    decision = decide(shape("kafka.m5.2xlarge"), history(QUIET_HOURS, cpu=20, mb_in=2, mb_out=4))
    assert decision.action is BrokerAction.TYPE_SMALLER
    assert decision.target_type == "kafka.m5.xlarge"
    assert decision.change is ChangeKind.BROKER_TYPE_SMALLER
    assert decision.carried_out
    assert "Over the last 14 days CPU peaked at 20 %" in decision.reason


def test_one_busy_hour_in_the_fortnight_keeps_the_size():
    samples = history(QUIET_HOURS, cpu=20, last=[(45, 1, 1, 0)] + [(20, 1, 1, 0)] * 100)
    assert decide(shape("kafka.m5.2xlarge"), samples).action is BrokerAction.NO_CHANGE


def test_a_history_shorter_than_the_quiet_period_is_not_quiet():
    decision = decide(shape("kafka.m5.2xlarge"), history(QUIET_HOURS - 1, cpu=5))
    assert decision.action is BrokerAction.NO_CHANGE


def test_no_size_down_when_partitions_exceed_the_smaller_maximum():
    # 2xlarge allows 3000 (recommends 2000); xlarge allows at most 1500.
    decision = decide(shape("kafka.m5.2xlarge", partitions=1600), history(QUIET_HOURS, cpu=5))
    assert decision.action is BrokerAction.NO_CHANGE
    assert "1600 partitions per broker exceed the 1500 kafka.m5.xlarge allows" in decision.reason


def test_at_the_smallest_size_scale_in_is_only_recommended():
    decision = decide(shape("kafka.m5.large", count=6, partitions=300), history(QUIET_HOURS))
    assert decision.action is BrokerAction.COUNT_DOWN
    assert decision.target_count == 3
    assert decision.change is ChangeKind.BROKER_COUNT_DOWN
    assert not decision.carried_out
    assert "after draining them" in decision.reason


def test_never_below_one_broker_per_zone():
    decision = decide(shape("kafka.m5.large", count=3), history(QUIET_HOURS))
    assert decision.action is BrokerAction.NO_CHANGE
    assert "one per zone already" in decision.reason


def test_m5_never_shrinks_to_t3():
    decision = decide(shape("kafka.m7g.large", partitions=100), history(QUIET_HOURS, cpu=2))
    assert decision.action is BrokerAction.NO_CHANGE


# --- Express -------------------------------------------------------------------------------------


def express(instance_type="express.m7g.xlarge", count=3, active=True):
    return shape(instance_type, count=count, rebalancing_active=active)


def test_express_above_80_percent_of_quota_scales_out_when_rebalancing_is_active():
    # xlarge: 31.2 MB/s ingress quota; 27 MB/s is 87 %.
    decision = decide(express(), history(5, mb_in=27))
    assert decision.action is BrokerAction.COUNT_UP
    assert decision.target_count == 6
    assert decision.carried_out
    assert "above 80 % of the size's quota in 3 of the last 3 hours (latest 87 %)" in (
        decision.reason
    )


def test_express_throttling_counts_as_hot():
    decision = decide(express(), history(5, throttle=12))
    assert decision.action is BrokerAction.COUNT_UP
    assert "throttled in 3 of the last 3 hours" in decision.reason


def test_express_without_rebalancing_moves_up_a_size_instead():
    decision = decide(express(active=False), history(5, mb_in=27))
    assert decision.action is BrokerAction.TYPE_LARGER
    assert decision.target_type == "express.m7g.2xlarge"
    assert "not ACTIVE" in decision.reason


def test_express_egress_counts_against_twice_the_quota():
    assert decide(express(), history(5, mb_out=55)).action is BrokerAction.COUNT_UP
    assert decide(express(), history(5, mb_out=45)).action is BrokerAction.NO_CHANGE


def test_quiet_express_scales_in_one_broker_per_zone_with_rebalancing():
    decision = decide(express(count=9), history(QUIET_HOURS, mb_in=3))
    assert decision.action is BrokerAction.COUNT_DOWN
    assert decision.target_count == 6
    assert decision.carried_out


def test_quiet_express_without_rebalancing_moves_down_a_size_and_never_scales_in():
    decision = decide(express("express.m7g.2xlarge", count=9, active=False), history(QUIET_HOURS))
    assert decision.action is BrokerAction.TYPE_SMALLER
    assert decision.target_type == "express.m7g.xlarge"
    assert "rebalancing" not in decision.reason.lower()


def test_express_at_three_brokers_moves_down_a_size():
    decision = decide(express("express.m7g.2xlarge"), history(QUIET_HOURS))
    assert decision.action is BrokerAction.TYPE_SMALLER


def test_settings_are_checked():
    with pytest.raises(ValueError, match="quiet_cpu_percent"):
        BrokerPolicySettings(cpu_threshold_percent=20)
    with pytest.raises(ValueError, match="at most the 14 days"):
        BrokerPolicySettings(quiet_days=15)
    with pytest.raises(ValueError, match="multiple of zone_count"):
        shape(count=4)


def test_settings_are_overridable():
    strict = BrokerPolicySettings(cpu_threshold_percent=40, sustained_hours=1)
    assert decide(shape(), history(5, last=[(45, 1, 1, 0)]), strict).action is (
        BrokerAction.TYPE_LARGER
    )


# --- properties ----------------------------------------------------------------------------------

ZONE_COUNTS = st.sampled_from([2, 3])


@st.composite
def clusters(draw):
    instance_type = draw(st.sampled_from(sizes.INSTANCE_TYPES))
    zones = 3 if sizes.is_express(instance_type) else draw(ZONE_COUNTS)
    return ClusterShape(
        instance_type=instance_type,
        broker_count=zones * draw(st.integers(1, 5)),
        zone_count=zones,
        partitions_per_broker=draw(st.integers(0, 7000)),
        rebalancing_active=draw(st.booleans()),
        scale_out_opted_in=draw(st.booleans()),
    )


@st.composite
def loads(draw):
    hours = draw(st.sampled_from([3, 24, QUIET_HOURS]))
    level = draw(st.floats(0, 100))
    busy = draw(st.lists(st.floats(0, 100), max_size=3))
    mb = draw(st.floats(0, 400))
    throttle = draw(st.sampled_from([0.0, 0.0, 5.0]))
    last = [(cpu, mb, mb, 0) for cpu in busy]
    return history(hours, cpu=level, mb_in=mb, mb_out=mb, throttle=throttle, last=last)


@settings(max_examples=400, deadline=None)
@given(clusters(), loads())
def test_one_step_at_a_time_within_what_msk_allows(cluster, load):
    decision = decide(cluster, load)
    type_changed = decision.target_type != cluster.instance_type
    count_changed = decision.target_count != cluster.broker_count
    assert not (type_changed and count_changed)
    if type_changed:
        assert decision.target_type in (
            sizes.larger(cluster.instance_type),
            sizes.smaller(cluster.instance_type),
        )
        assert sizes.type_change_refusal(cluster.instance_type, decision.target_type) is None
    if count_changed:
        assert abs(decision.target_count - cluster.broker_count) == cluster.zone_count
    assert decision.target_count >= cluster.zone_count
    assert decision.target_count % cluster.zone_count == 0
    assert (decision.change is None) == (decision.action is BrokerAction.NO_CHANGE)
    if decision.action is BrokerAction.NO_CHANGE:
        assert not decision.carried_out


@settings(max_examples=300, deadline=None)
@given(clusters(), loads())
def test_removals_are_carried_out_only_by_express_rebalancing(cluster, load):
    decision = decide(cluster, load)
    if decision.action is BrokerAction.COUNT_DOWN and decision.carried_out:
        assert sizes.is_express(cluster.instance_type)
        assert cluster.rebalancing_active
    if decision.action is BrokerAction.COUNT_UP and decision.carried_out:
        assert cluster.rebalancing_active or cluster.scale_out_opted_in
