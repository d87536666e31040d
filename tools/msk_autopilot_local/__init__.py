"""Local tooling for msk-autopilot: command line, emulator, local event source, demo.

Never imported by Lambda code.
"""
