"""Every cluster control's verdict on a fleet in the MSK emulator where each control of the
first round passes and fails. The fleet's account has a trail recording everything and its
clusters no topics: AUTOPILOT.11 to AUTOPILOT.13, MSK.3 and MSK.5 fail on fleets of their own
(test_audit_new_rules.py)."""

from audit_world import scheduled_event, verdicts

from msk_autopilot.audit import CONTROLS
from msk_autopilot.audit.controls import Subject

P, F, NA, NAV = "PASSED", "FAILED", "NOT_APPLICABLE", "NOT_AVAILABLE"
CONTROL_ORDER = [
    "MSK.1",
    "MSK.2",
    "MSK.4",
    "MSK.6",
    *(f"AUTOPILOT.{n}" for n in range(1, 11)),
    "AUTOPILOT.12",
    "AUTOPILOT.13",
]
FIRST_ROUND = CONTROL_ORDER[:14]
EXPECTED = {
    #            MSK.1 MSK.2 MSK.4 MSK.6  A.1  A.2  A.3  A.4  A.5  A.6  A.7  A.8  A.9 A.10 A.12 A.13
    "hardened": [P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P],
    "legacy": [F, F, P, F, F, F, F, F, F, F, NA, F, F, F, NAV, NA],  # 3.3.1: no topic APIs
    "exposed": [P, P, F, P, P, P, P, P, F, P, NA, P, P, P, P, P],
    "leaky-scram": [P, P, P, P, P, P, P, P, P, P, F, P, P, P, P, NA],
    "express": [P, P, P, P, P, P, P, P, P, P, NA, P, P, P, P, P],
    "stream": [NA, NA, P, P, P, F, F, NA, P, P, NA, P, P, NA, NA, P],
}


def test_the_fleet_exercises_every_control_both_ways():
    cluster_controls = [c for c, control in CONTROLS.items() if control.subject is Subject.CLUSTER]
    assert sorted(cluster_controls) == sorted(CONTROL_ORDER)
    for control in FIRST_ROUND:
        seen = {row[CONTROL_ORDER.index(control)] for row in EXPECTED.values()}
        assert {P, F} <= seen, control


def test_each_control_reaches_its_verdict_on_each_cluster(fleet, invoke, stored_report):
    result = invoke(scheduled_event())

    assert result["status"] == "unchanged", result
    actual = verdicts(stored_report())
    assert actual == {
        name: dict(zip(CONTROL_ORDER, row, strict=True)) for name, row in EXPECTED.items()
    }


def test_details_say_what_is_wrong(fleet, invoke, stored_report):
    invoke(scheduled_event())

    details = {
        (c["name"], f["control"]): f["detail"]
        for c in stored_report()["resources"]
        for f in c["findings"]
    }
    assert "9092, 9094, 9096, 9098" in details["legacy", "AUTOPILOT.5"]
    assert "9198" in details["exposed", "AUTOPILOT.5"]  # all traffic from ::/0, public listeners
    assert "AmazonMSK_leaky-scram_bob" in details["leaky-scram", "AUTOPILOT.7"]
    assert details["legacy", "AUTOPILOT.6"].endswith("Everyone")
    assert "3.3.1 is DEPRECATED" in details["legacy", "AUTOPILOT.4"]
    assert "an AWS managed key (arn:aws:kms:" in details["legacy", "AUTOPILOT.2"]
    assert "scaling policy" in details["exposed", "AUTOPILOT.9"]
