"""Every handler, fed valid and mutated events about a seeded fleet, judged by the oracle.

Each case runs in a fresh world (fuzz_world.py): the answer must be the one the runtime
documents, only clusters the event names (or a sweep reaches) may change and only if opted in,
and the record consumer must keep every record (fuzz_oracle.py). The oracle itself is tested
against mutants in test_oracle_mutants.py.
"""

import pytest
from fuzz_events import events
from fuzz_oracle import RAISED_ON_PURPOSE, run_case
from hypothesis import event, given
from hypothesis import strategies as st


@pytest.mark.parametrize("handler", list(RAISED_ON_PURPOSE), indirect=True)
@given(data=st.data())
def test_handlers_answer_every_event(handler, world, data):
    world.fresh()
    function = handler.function
    result = run_case(world, function, handler, handler.parse, data.draw(events(world, function)))
    if isinstance(result, dict):
        event(f"{function} status: {result.get('status', 'batch response')}")
