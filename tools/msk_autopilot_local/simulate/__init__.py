"""Replaying disk-usage traces through the storage policy and MSK's own auto scaling: the trace
format (`trace`, with the shipped suite in `traces/`) and the simulator (`simulator`)."""
