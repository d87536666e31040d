"""The storage sizing policy: when to grow, by how much, and MSK's rules on every decision."""

import json
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msk_autopilot.outcome import Severity
from msk_autopilot.storage.policy import (
    MAX_VOLUME_GIB,
    MIN_STEP_GIB,
    PolicySettings,
    StorageAction,
    StorageObservation,
    UsageSample,
    max_throughput_mibps,
    theil_sen_slope,
)
from msk_autopilot.storage.policy import (
    decide as policy_decide,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
# Growing as soon as the forecast at the cool-down horizon passes the target isolates how far a
# step goes from when it is taken; the tests of when (grow late) use the defaults.
EAGER = {"grow_at_percent": 60.0, "reaction_hours": 6.0}
EXACT = PolicySettings(min_step_percent=0, **EAGER)  # isolates the forecast-driven size too


def eager(**fields):
    return PolicySettings(**{**EAGER, **fields})


def decide(observation, settings=None):
    return policy_decide(observation, settings or eager())


def series(start_percent, percent_per_hour, hours=6.0, every_minutes=10, spikes=()):
    """Samples ending at NOW; `spikes` maps a sample index (0 = oldest) to a replacement value."""
    count = round(hours * 60 / every_minutes) + 1
    spiked = dict(spikes)
    return [
        UsageSample(
            NOW - timedelta(minutes=every_minutes * (count - 1 - index)),
            spiked.get(index, start_percent + percent_per_hour * index * every_minutes / 60),
        )
        for index in range(count)
    ]


def observe(volume_gib=1000, usage=None, broker_count=None, **fields):
    usage = usage if usage is not None else {"1": series(40, 0)}
    return StorageObservation(
        now=NOW,
        volume_gib=volume_gib,
        broker_count=broker_count or len(usage) or 1,
        usage=usage,
        instance_type=fields.pop("instance_type", "kafka.m5.large"),
        **fields,
    )


# --- growth estimate ------------------------------------------------------------------------


def test_theil_sen_recovers_a_line_and_ignores_outliers():
    line = [(x, 3.0 * x + 7) for x in range(10)]
    assert theil_sen_slope(line) == pytest.approx(3.0)
    line[4] = (4, 500.0)  # one spike
    line[8] = (8, -300.0)  # one dip
    assert theil_sen_slope(line) == pytest.approx(3.0)


def test_theil_sen_takes_the_middle_pair_of_an_even_number_of_slopes():
    # Slopes 1, 1, 1, 10/3, 4.5, 8: the median is the mean of 1 and 10/3.
    assert theil_sen_slope([(0, 0), (1, 1), (2, 2), (3, 10)]) == pytest.approx((1 + 10 / 3) / 2)


def test_theil_sen_needs_two_distinct_times():
    assert theil_sen_slope([(1.0, 5.0)]) is None
    assert theil_sen_slope([(1.0, 5.0), (1.0, 9.0)]) is None


def test_growth_is_in_gib_per_hour_of_the_current_size():
    decision = decide(observe(volume_gib=2000, usage={"1": series(30, 0.5)}))
    assert decision.driving_broker.growth_gib_per_hour == pytest.approx(10.0)  # 0.5 % of 2000


def test_a_spike_in_the_samples_neither_triggers_nor_inflates_growth():
    spiky = series(50, 0.1, spikes={10: 97.0, 30: 99.0})  # two transient spikes
    decision = decide(observe(usage={"1": spiky}))
    assert decision.driving_broker.growth_gib_per_hour == pytest.approx(1.0)
    assert decision.action is StorageAction.HOLD


def test_a_burst_in_the_last_hour_drives_growth_despite_a_calm_look_back():
    # Flat at 40 % for five hours, then +1 % every 10 minutes (60 GiB/h) for the last hour.
    samples = [
        UsageSample(NOW - timedelta(minutes=minutes), 40 + max(0, 60 - minutes) / 10)
        for minutes in range(360, -1, -10)
    ]
    decision = decide(observe(usage={"1": samples}))
    assert decision.driving_broker.growth_gib_per_hour == pytest.approx(60.0)
    assert decision.action is StorageAction.GROW


def test_shrinking_usage_counts_as_no_growth():
    decision = decide(observe(usage={"1": series(50, -2.0)}))
    assert decision.driving_broker.growth_gib_per_hour == 0.0


def test_samples_from_before_the_last_resize_are_ignored():
    # 1000 GiB until 30 minutes ago, then 2000 GiB: the same 20 GiB/h, but half the percent.
    before = series(30, 2.0, hours=6)[:33]  # up to 40 minutes ago, 2 %/h of 1000 GiB
    after = series(25, 1.0, hours=0.5)  # since the resize, 1 %/h of 2000 GiB
    usage = {"1": before + after}
    resized = decide(observe(volume_gib=2000, usage=usage, resized_at=NOW - timedelta(hours=0.5)))
    mixed = decide(observe(volume_gib=2000, usage=usage))
    assert resized.driving_broker.samples == len(after)
    assert resized.driving_broker.growth_gib_per_hour == pytest.approx(20.0)
    # Old-size percentages read at the new size double the rate (and the drop skews it too).
    assert mixed.driving_broker.growth_gib_per_hour == pytest.approx(40.0)


def test_samples_older_than_the_look_back_are_ignored():
    old = [UsageSample(NOW - timedelta(hours=7), 10.0)]
    decision = decide(observe(usage={"1": old + series(40, 0)}))
    assert decision.driving_broker.samples == len(series(40, 0))
    assert decision.driving_broker.growth_gib_per_hour == 0.0


def test_the_forecast_runs_from_the_latest_samples_time():
    stale = [UsageSample(s.at - timedelta(hours=1), s.used_percent) for s in series(44, 1.0)]
    decision = decide(observe(usage={"1": stale}))
    assert decision.driving_broker.forecast_percent == pytest.approx(50 + 1.0 * 9)  # 1 h + 8 h


# --- when and how much ----------------------------------------------------------------------


def test_holds_while_the_forecast_stays_within_the_target():
    # At 50 %, +1 %/h for 8 h (6 h cool-down + 2 h margin): 58 %.
    decision = decide(observe(usage={"1": series(44, 1.0)}))
    assert decision.action is StorageAction.HOLD
    assert decision.severity is Severity.INFO
    assert decision.new_gib == decision.current_gib
    assert decision.horizon_hours == 8.0
    assert decision.driving_broker.forecast_percent == pytest.approx(58.0)


def test_grows_to_the_smallest_size_holding_the_forecast_at_the_target():
    # 55 % of 1000 GiB + 10 GiB/h for 8 h = 630 GiB; 630 / 0.6 = 1050 GiB.
    decision = decide(observe(usage={"1": series(49, 1.0)}), EXACT)
    assert decision.action is StorageAction.GROW
    assert decision.resizes
    assert decision.new_gib == 1050
    assert decision.new_forecast_percent == pytest.approx(60.0)
    assert "1050 GiB" in decision.reason


def test_a_step_is_at_least_the_minimum_percent_of_the_current_size():
    decision = decide(observe(usage={"1": series(49, 1.0)}))  # needs 1050, floor is +10 %
    assert decision.new_gib == 1100
    assert "at least max(10 GiB, 10 %)" in decision.reason


def test_a_step_is_at_least_ten_gib():
    decision = decide(observe(volume_gib=20, usage={"1": series(61, 0)}), EXACT)
    assert decision.new_gib == 30  # 61 % of 20 needs 21 GiB; MSK takes +10 GiB at least


def test_the_broker_with_the_highest_forecast_drives_the_decision():
    usage = {"1": series(56, 0.0), "2": series(44, 1.5)}  # 2 is lower now (53 %) but grows
    decision = decide(observe(usage=usage), EXACT)
    assert decision.driving_broker.broker_id == "2"
    assert decision.driving_broker.forecast_percent == pytest.approx(65.0)  # 53 + 1.5 * 8
    assert decision.new_gib == 1084  # 650 GiB at 60 %, rounded up to a whole GiB


def test_the_target_is_a_setting():
    usage = {"1": series(44, 1.0)}  # forecast 58 %
    assert decide(observe(usage=usage), eager(target_percent=50, grow_at_percent=50)).resizes
    assert not decide(observe(usage=usage), eager(target_percent=60)).resizes


def test_a_slow_previous_operation_plans_for_a_longer_cool_down():
    usage = {"1": series(50, 1.0)}  # 56 %, 10 GiB/h
    quick = decide(observe(usage=usage, previous_operation_hours=0.5), EXACT)
    slow = decide(observe(usage=usage, previous_operation_hours=3), EXACT)
    assert quick.horizon_hours == 8.0
    assert quick.new_gib == 1067  # 56 + 8 = 64 % of 1000 GiB, at 60 %
    assert slow.horizon_hours == 26.0  # 24 h cool-down + 2 h margin
    assert slow.new_gib == 1367  # 56 + 26 = 82 %


def test_a_broker_already_over_the_alarm_threshold_makes_growth_a_warning():
    decision = decide(observe(usage={"1": series(88, 0.0)}))
    assert decision.action is StorageAction.GROW
    assert decision.severity is Severity.WARNING
    assert "alarm threshold" in decision.reason


# --- the cap ----------------------------------------------------------------------------------


def test_the_cap_stops_growth_and_says_what_to_do_instead():
    decision = decide(observe(usage={"1": series(90, 0.0)}), eager(max_gib=1200))
    assert decision.action is StorageAction.CAP_REACHED
    assert decision.severity is Severity.CRITICAL
    assert decision.new_gib == 1200  # as far as allowed
    for advice in ("brokers", "tiered storage", "retention"):
        assert advice in decision.reason


def test_no_growth_below_the_ten_gib_minimum_under_the_cap():
    decision = decide(observe(volume_gib=MAX_VOLUME_GIB - 5, usage={"1": series(70, 0.0)}))
    assert decision.action is StorageAction.CAP_REACHED
    assert not decision.resizes
    assert decision.new_gib == MAX_VOLUME_GIB - 5


def test_a_cap_below_the_current_size_never_shrinks():
    decision = decide(observe(volume_gib=2000, usage={"1": series(80, 0)}), eager(max_gib=1000))
    assert decision.new_gib == 2000
    assert decision.action is StorageAction.CAP_REACHED


# --- cool-down and data gaps ------------------------------------------------------------------


def test_during_a_cool_down_it_holds_and_warns_when_the_disk_fills_first():
    filling = {"1": series(70, 2.0)}  # 82 %, +20 GiB/h: full in 9 h
    soon = decide(observe(usage=filling, hours_until_change_allowed=1))
    late = decide(observe(usage=filling, hours_until_change_allowed=8))
    assert soon.action is late.action is StorageAction.HOLD
    assert soon.horizon_hours == 3.0  # change allowed in 1 h + margin
    assert soon.severity is Severity.WARNING  # 88 %: over the alarm threshold, not full
    assert late.severity is Severity.CRITICAL  # 82 + 20 = 102 %
    assert "retention" in late.reason


def test_without_samples_it_holds_with_a_warning():
    decision = decide(observe(usage={}, broker_count=3))
    assert decision.action is StorageAction.HOLD
    assert decision.severity is Severity.WARNING
    assert decision.driving_broker is None


def test_a_broker_without_samples_is_reported():
    decision = decide(observe(usage={"1": series(40, 0)}, broker_count=3))
    assert decision.severity is Severity.WARNING
    assert "only 1 of 3 brokers" in decision.reason


def test_a_single_sample_gives_no_growth_estimate_and_a_warning():
    decision = decide(observe(usage={"1": [UsageSample(NOW, 40.0)]}))
    assert decision.driving_broker.growth_gib_per_hour is None
    assert decision.severity is Severity.WARNING


# --- provisioned throughput -------------------------------------------------------------------


def test_max_throughput_per_broker_type():
    assert max_throughput_mibps("kafka.m5.4xlarge") == 593
    assert max_throughput_mibps("kafka.m7g.2xlarge") == 312.5
    assert max_throughput_mibps("kafka.m5.2xlarge") is None  # cannot provision throughput


@pytest.mark.parametrize(
    ("instance_type", "current", "expected"),
    [
        ("kafka.m5.4xlarge", 300, 330),  # in proportion to size: 1000 -> 1100 GiB
        ("kafka.m5.4xlarge", 590, 593),  # within the type's maximum
        ("kafka.m7g.2xlarge", 300, 312),  # 312.5 MiB/s, but the API takes whole MiB/s
        ("kafka.m5.2xlarge", 300, None),  # type cannot provision throughput
        ("kafka.m5.4xlarge", None, None),  # provisioned throughput is off: left off
    ],
)
def test_throughput_rises_with_size_when_enabled(instance_type, current, expected):
    observation = observe(
        usage={"1": series(61, 0)},
        instance_type=instance_type,
        provisioned_throughput_mibps=current,
    )
    decision = decide(observation, eager(scale_throughput=True))
    assert decision.new_gib == 1100
    assert decision.new_throughput_mibps == expected


def test_throughput_is_left_alone_unless_asked_or_growing():
    enabled = {"instance_type": "kafka.m5.4xlarge", "provisioned_throughput_mibps": 300}
    growing = observe(usage={"1": series(61, 0)}, **enabled)
    holding = observe(usage={"1": series(30, 0)}, **enabled)
    assert decide(growing).new_throughput_mibps is None
    assert decide(holding, eager(scale_throughput=True)).new_throughput_mibps is None


# --- settings and output ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"cooldown_hours": 4}, "cooldown_hours must be at least 6"),
        ({"max_gib": MAX_VOLUME_GIB + 1}, "max_gib must be between 10 and 16384"),
        ({"max_gib": 5}, "max_gib must be between 10 and 16384"),
        ({"target_percent": 90}, "must be below trigger_percent"),
        ({"target_percent": 0}, "target_percent must be between 0 and 100"),
        ({"burst_window_hours": 7}, "burst_window_hours must be > 0 and at most look_back"),
        ({"min_step_percent": -1}, "min_step_percent must not be negative"),
    ],
)
def test_settings_reject_values_msk_or_the_policy_cannot_honour(bad, message):
    with pytest.raises(ValueError, match=message):
        PolicySettings(**bad)


def test_observation_rejects_impossible_inputs():
    with pytest.raises(ValueError, match="volume_gib"):
        observe(volume_gib=0)
    with pytest.raises(ValueError, match="hours_until_change_allowed"):
        observe(hours_until_change_allowed=-1)


def test_a_decision_serialises_to_json_with_its_inputs():
    document = json.loads(json.dumps(decide(observe(usage={"1": series(49, 1.0)})).to_dict()))
    assert document["action"] == "grow"
    assert document["driving_broker"] == "1"
    assert document["growth_gib_per_hour"] == pytest.approx(10.0)
    assert document["horizon_hours"] == 8.0
    assert document["brokers"][0]["used_percent"] == pytest.approx(55.0)


# --- MSK's rules, on any input ----------------------------------------------------------------

broker_series = st.builds(
    lambda level, slope, noise: [
        UsageSample(
            NOW - timedelta(minutes=30 * (12 - k)), max(0.0, min(100.0, level + slope * k + n))
        )
        for k, n in enumerate(noise)
    ],
    st.floats(0, 100),
    st.floats(-5, 5),
    st.lists(st.floats(-2, 2), min_size=0, max_size=13),
)
observations = st.builds(
    lambda volume, usage, waiting, previous: StorageObservation(
        now=NOW,
        volume_gib=volume,
        broker_count=3,
        usage=usage,
        instance_type="kafka.m5.4xlarge",
        hours_until_change_allowed=waiting,
        previous_operation_hours=previous,
        provisioned_throughput_mibps=250,
    ),
    st.integers(1, MAX_VOLUME_GIB),
    st.dictionaries(st.sampled_from(["1", "2", "3"]), broker_series, max_size=3),
    st.sampled_from([0.0, 0.0, 2.5]),
    st.none() | st.floats(0, 30),
)
policy_settings = st.floats(10, 80).flatmap(
    lambda target: st.builds(
        PolicySettings,
        target_percent=st.just(target),
        grow_at_percent=st.floats(target, 84),
        reaction_hours=st.floats(0.25, 6),
        cooldown_hours=st.floats(6, 30),
        max_gib=st.integers(MIN_STEP_GIB, MAX_VOLUME_GIB),
        min_step_percent=st.floats(0, 25),
        scale_throughput=st.booleans(),
    )
)


@settings(max_examples=300, deadline=None)
@given(observations, policy_settings)
def test_every_decision_respects_msks_storage_rules(observation, policy):
    decision = decide(observation, policy)
    current, new = decision.current_gib, decision.new_gib
    assert isinstance(new, int)  # whole GiB
    assert new >= current  # never shrink
    assert new == current or new - current >= MIN_STEP_GIB  # at least +10 GiB
    assert new == current or new <= min(policy.max_gib, MAX_VOLUME_GIB)  # the cap, 16384 GiB
    if decision.action is StorageAction.HOLD:
        assert not decision.resizes
    if decision.action is StorageAction.GROW:
        assert decision.new_forecast_percent <= policy.target_percent + 1e-6
    if decision.action is StorageAction.CAP_REACHED:
        assert decision.severity is Severity.CRITICAL
    if decision.new_throughput_mibps is not None:
        assert 250 < decision.new_throughput_mibps <= 593


@settings(max_examples=200, deadline=None)
@given(observations, policy_settings, st.floats(0.1, 30))
def test_more_usage_never_means_a_smaller_size(observation, policy, extra_percent):
    fuller = StorageObservation(
        now=observation.now,
        volume_gib=observation.volume_gib,
        broker_count=observation.broker_count,
        usage={
            broker: [UsageSample(s.at, s.used_percent + extra_percent) for s in samples]
            for broker, samples in observation.usage.items()
        },
        instance_type=observation.instance_type,
        hours_until_change_allowed=observation.hours_until_change_allowed,
        previous_operation_hours=observation.previous_operation_hours,
    )
    assert decide(fuller, policy).new_gib >= decide(observation, policy).new_gib


@settings(max_examples=200, deadline=None)
@given(observations, policy_settings)
def test_it_acts_whenever_waiting_is_unsafe(observation, policy):
    decision = decide(observation, policy)
    driving = decision.driving_broker
    if driving is None or observation.hours_until_change_allowed > 0:
        assert decision.action is StorageAction.HOLD
    elif max(broker.reaction_percent for broker in decision.brokers) > policy.grow_at_percent:
        assert decision.action is not StorageAction.HOLD
    else:
        assert decision.action is StorageAction.HOLD


# --- growing late, retention, ramps, the cap ---------------------------------------------------


def test_by_default_it_grows_only_when_waiting_for_a_later_run_is_unsafe():
    # 10 GiB/h: 8 h ahead (the cool-down horizon) is 78 %, but 3 h ahead is 73 %.
    assert policy_decide(observe(usage={"1": series(64, 1.0)})).action is StorageAction.HOLD
    grown = policy_decide(observe(usage={"1": series(67, 1.0)}))  # 76 % in 3 h
    assert grown.action is StorageAction.GROW
    assert grown.new_forecast_percent == pytest.approx(60, abs=0.1)  # sized for the cool-down


def test_retention_bounds_the_forecast():
    usage = {"1": series(50, 1.0)}  # 56 %, 10 GiB/h: 64 % in 8 h
    bounded = decide(observe(usage=usage, retention_bound_gib=620.0), EXACT)
    assert bounded.driving_broker.forecast_used_gib == pytest.approx(620)
    assert bounded.driving_broker.retention_bounded
    assert bounded.new_gib == 1034  # 620 GiB at 60 %, not 640
    assert "retention lets it hold: 620 GiB" in bounded.reason
    below_usage = decide(observe(usage=usage, retention_bound_gib=100.0), EXACT)
    assert below_usage.driving_broker.forecast_used_gib == pytest.approx(560)  # what is there


def test_a_ramp_is_forecast_with_its_acceleration():
    # Growth rises from 0 to 12 GiB/h over six hours: 2 GiB/h more each hour.
    samples = [
        UsageSample(NOW - timedelta(minutes=10 * (36 - index)), 40 + (index / 6) ** 2 / 10)
        for index in range(37)
    ]
    decision = decide(observe(usage={"1": samples}), EXACT)
    assert decision.driving_broker.acceleration_gib_per_hour_squared == pytest.approx(2, rel=0.2)
    assert "GiB/h each hour" in decision.reason


@pytest.mark.parametrize(
    ("version", "instance_type", "says"),
    [
        ("3.6.0", "kafka.m5.4xlarge", "this cluster supports it"),
        ("2.8.2.tiered", "kafka.m5.4xlarge", "this cluster supports it"),
        ("3.5.1", "kafka.m5.4xlarge", "upgrade to 3.6.0 or later first"),
        ("3.6.0", "kafka.t3.small", "not available on kafka.t3.small"),
    ],
)
def test_near_the_cap_the_decision_names_tiered_storage(version, instance_type, says):
    near = observe(
        volume_gib=13000,
        usage={"1": series(80, 0.0)},
        kafka_version=version,
        instance_type=instance_type,
    )
    decision = decide(near)
    assert "tiered storage is off" in decision.reason
    assert says in decision.reason
    assert decision.severity is not Severity.INFO
    tiered = msgspec.structs.replace(near, storage_mode="TIERED")
    assert "tiered storage" not in decide(tiered).reason.split("Act instead")[0]
