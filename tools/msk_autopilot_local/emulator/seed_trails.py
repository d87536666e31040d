"""Fleet-file CloudTrail trails (``trails:``), created through moto's CloudTrail, which keeps
trails, their logging status (StartLogging/StopLogging, GetTrailStatus) and their event
selectors: basic ones (ReadWriteType, IncludeManagementEvents, DataResources) and advanced ones
(FieldSelectors), which moto stores and returns as given without judging them.
"""

from collections.abc import Mapping
from typing import Any

from .fleet_error import FleetError

TRAIL_KEYS = {
    "name",
    "bucket",
    "multiRegion",
    "logging",
    "eventSelectors",
    "advancedEventSelectors",
}


def check_trails(trails: Any) -> None:
    if not isinstance(trails, list):
        raise FleetError("trails must be a list of trails.")
    names = set()
    for trail in trails:
        if not isinstance(trail, Mapping) or not isinstance(trail.get("name"), str):
            raise FleetError("Every trail is an object with a name.")
        unknown = set(trail) - TRAIL_KEYS
        if unknown:
            raise FleetError(
                f"Unknown keys for trail {trail['name']}: {sorted(unknown)}. "
                f"Allowed: {sorted(TRAIL_KEYS)}."
            )
        if trail["name"] in names:
            raise FleetError(f"Trail {trail['name']} appears twice.")
        names.add(trail["name"])
        if "eventSelectors" in trail and "advancedEventSelectors" in trail:
            # CloudTrail: "You cannot apply both event selectors and advanced event selectors
            # to a trail" (API reference, AdvancedEventSelector).
            raise FleetError(
                f"Trail {trail['name']}: eventSelectors or advancedEventSelectors, not both."
            )


def seed_trail(cloudtrail: Any, s3: Any, trail: Mapping[str, Any]) -> str:
    """Create the trail (and its bucket), set its selectors and start it unless ``logging`` is
    false; return its ARN."""
    bucket = trail.get("bucket", f"cloudtrail-{trail['name']}")
    region = cloudtrail.meta.region_name
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
    arn = cloudtrail.create_trail(
        Name=trail["name"], S3BucketName=bucket, IsMultiRegionTrail=trail.get("multiRegion", False)
    )["TrailARN"]
    if "eventSelectors" in trail:
        cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=trail["eventSelectors"])
    if "advancedEventSelectors" in trail:
        cloudtrail.put_event_selectors(
            TrailName=arn, AdvancedEventSelectors=trail["advancedEventSelectors"]
        )
    if trail.get("logging", True):
        cloudtrail.start_logging(Name=arn)
    return str(arn)
