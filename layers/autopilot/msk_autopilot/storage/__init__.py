"""Storage scaler core: the pure sizing policy, shared by the Lambda function and the simulator."""

from msk_autopilot.storage.policy import (
    MAX_VOLUME_GIB,
    MIN_STEP_GIB,
    BrokerForecast,
    PolicySettings,
    Severity,
    StorageAction,
    StorageDecision,
    StorageObservation,
    UsageSample,
    decide,
    max_throughput_mibps,
    theil_sen_slope,
)

__all__ = [
    "MAX_VOLUME_GIB",
    "MIN_STEP_GIB",
    "BrokerForecast",
    "PolicySettings",
    "Severity",
    "StorageAction",
    "StorageDecision",
    "StorageObservation",
    "UsageSample",
    "decide",
    "max_throughput_mibps",
    "theil_sen_slope",
]
