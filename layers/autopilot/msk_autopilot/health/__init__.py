"""Cluster health: gates that say whether a cluster may take a change now, and the monitor that
keeps its alarms, dashboard and broker-log watch.

`change` holds the vocabulary every mutating module shares (`ChangeKind`, `Deferral`); `gates`
declares the gates and judges a `HealthReading` (pure); `reading` reads what the gates need from
MSK and CloudWatch; `gatekeeper` is the one call (`Gatekeeper.check`) `MskPort` makes before every
change, which also remembers and notifies a deferral once per cluster and gate.

The health monitor keeps what watches a cluster's health: `alarms` declares the recommended
alarm set (and the storage scaler's disk alarms), `broker_logs` the broker-log filters, alarms
and queries, `dashboard` the dashboard per cluster (all pure); `keeping` syncs what the monitor
owns and `monitor` is the function (`build_health_monitor`).

This module imports nothing, so `msk_autopilot.msk` can import `health.change` without a cycle.
"""
