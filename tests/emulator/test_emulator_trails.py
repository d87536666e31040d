"""Fleet-file CloudTrail trails, through moto's CloudTrail: multi-Region or not, logging or
stopped, basic event selectors (management events, data events of AWS::Kafka::Cluster) or
advanced ones."""

import pytest

from msk_autopilot_local.emulator import seed_fleet

KAFKA_DATA_EVENTS = [
    {
        "Name": "Kafka data plane",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::Kafka::Cluster"]},
        ],
    }
]


def test_fleet_trails(kit, aws_session):
    spec = {
        "trails": [
            {
                "name": "org",
                "multiRegion": True,
                "eventSelectors": [
                    {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}
                ],
            },
            {"name": "stopped", "bucket": "stopped-trail", "logging": False},
            {"name": "kafka-data", "advancedEventSelectors": KAFKA_DATA_EVENTS},
        ]
    }
    fleet = seed_fleet(aws_session, spec)
    cloudtrail = kit.client("cloudtrail")
    trails = {t["Name"]: t for t in cloudtrail.describe_trails()["trailList"]}
    assert set(trails) == {"org", "stopped", "kafka-data"}
    assert trails["org"]["IsMultiRegionTrail"] is True
    assert trails["stopped"]["IsMultiRegionTrail"] is False
    assert trails["stopped"]["S3BucketName"] == "stopped-trail"
    assert trails["org"]["TrailARN"] == fleet.trails["org"]

    def logging(name):
        return cloudtrail.get_trail_status(Name=fleet.trails[name])["IsLogging"]

    assert (logging("org"), logging("stopped"), logging("kafka-data")) == (True, False, True)
    org = cloudtrail.get_event_selectors(TrailName=fleet.trails["org"])
    assert org["EventSelectors"][0]["IncludeManagementEvents"] is True
    data = cloudtrail.get_event_selectors(TrailName=fleet.trails["kafka-data"])
    assert data["AdvancedEventSelectors"] == KAFKA_DATA_EVENTS


@pytest.mark.parametrize(
    ("trail", "message"),
    [
        ({"bucket": "b"}, "with a name"),
        ({"name": "t", "colour": "red"}, "Unknown keys"),
        (
            {"name": "t", "eventSelectors": [], "advancedEventSelectors": KAFKA_DATA_EVENTS},
            "not both",
        ),
    ],
)
def test_fleet_trail_mistakes(kit, aws_session, trail, message):
    with pytest.raises(ValueError, match=message):
        seed_fleet(aws_session, {"trails": [trail]})
    assert kit.client("cloudtrail").describe_trails()["trailList"] == []
