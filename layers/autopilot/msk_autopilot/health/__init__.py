"""Health gates: whether a cluster may take a kind of change now, and why not.

`change` holds the vocabulary every mutating module shares (`ChangeKind`, `Deferral`); `gates`
declares the gates and judges a `HealthReading` (pure); `reading` reads what the gates need from
MSK and CloudWatch; `gatekeeper` is the one call (`Gatekeeper.check`) `MskPort` makes before every
change, which also remembers and notifies a deferral once per cluster and gate.

This module imports nothing, so `msk_autopilot.msk` can import `health.change` without a cycle.
"""
