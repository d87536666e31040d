"""`msk-autopilot demo`: the whole autopilot end to end on this machine (see `cli.demo` for the
story it tells).

`runner.run_demo` starts local AWS and a Kafka broker, seeds the fleet and runs the steps, one
module each (`fleet`, `storage`, `configuration`, `health`, `scram`, `audit`, `records`), on a
shared `session.DemoSession`; `progress` is what it shows while it runs.
"""
