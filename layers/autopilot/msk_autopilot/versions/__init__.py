"""Kafka version upgrades, the pure part: the version catalogue, targets from tags, paths through
MSK's compatibility graph, maintenance windows and the fleet rollout plan (issue 16).

Nothing here calls AWS or reads the clock: the I/O layer passes the facts it gathered and `now`.
"""
