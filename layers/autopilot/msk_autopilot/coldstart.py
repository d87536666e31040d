"""No cyclic garbage collection during a cold start, and none of what it built afterwards.

A cold start imports boto3, Powertools and the core and builds the SDK's clients: about 100,000
objects that live as long as the container. The cyclic collector runs every 700 allocations and
walks them again and again, 20-55 ms of each cold start as counted with `gc.callbacks`, and
finds nothing to free. A handler module calls `begin()` before its imports; `lambda_entry` calls
`end()` when an invocation ends, and after the first one (the auditor creates its clients then)
collection resumes. In a Lambda execution environment (AWS_LAMBDA_RUNTIME_API set) the objects
alive are frozen first (`gc.freeze`), so the container's later collections never walk them;
cyclic garbage of the first invocation stays frozen with them, a one-time cost. A local process
(tests, `msk-autopilot invoke`) loads handlers again and again and is not frozen: it would keep
every load. Reference counting frees memory as usual throughout.
"""

import gc
import os

__all__ = ["begin", "end"]

_paused = False


def begin() -> None:
    """Pause the cyclic collector until `end()`; nothing if it is already off."""
    global _paused  # noqa: PLW0603  one flag for the process, as the collector is
    if gc.isenabled():
        gc.disable()
        _paused = True


def end() -> None:
    """Resume the collector if `begin()` paused it, in Lambda after freezing what the cold start
    built. Idempotent."""
    global _paused  # noqa: PLW0603
    if _paused:
        _paused = False
        if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
            gc.freeze()
        gc.enable()
