"""Burst and fault scenarios: the bad minutes a bot must survive, replayed on purpose.

A :class:`Scenario` (from a TOML file or a built-in name) is a list of steps. Frame steps (burst, stall,
duplicate, reorder, drop, latency, malformed) are pure transformations of a client's timeline;
connection steps (disconnect, reject, pingpong, and a stall that stops PINGPONG) come out of the same
stream as :class:`ConnectionAction` items that the fake server executes at their time and logs as faults.
Toxiproxy breaks byte streams; this breaks messages, deterministically for a given seed.
"""

from .actions import (
    Abort,
    Close,
    ConnectionAction,
    Mark,
    RejectSubscriptions,
    SendRaw,
    SetPingPong,
)
from .builtin import builtin_names, load_builtin, resolve_scenario
from .errors import ScenarioError
from .run import ScenarioRun
from .scenario import Scenario, load_scenario, parse_scenario
from .steps import (
    MALFORMED_KINDS,
    STEP_TYPES,
    Burst,
    Disconnect,
    Drop,
    Duplicate,
    Latency,
    Malformed,
    PingPong,
    Reject,
    Reorder,
    Stall,
    Step,
)

__all__ = [
    "MALFORMED_KINDS",
    "STEP_TYPES",
    "Abort",
    "Burst",
    "Close",
    "ConnectionAction",
    "Disconnect",
    "Drop",
    "Duplicate",
    "Latency",
    "Malformed",
    "Mark",
    "PingPong",
    "Reject",
    "RejectSubscriptions",
    "Reorder",
    "Scenario",
    "ScenarioError",
    "ScenarioRun",
    "SendRaw",
    "SetPingPong",
    "Stall",
    "Step",
    "builtin_names",
    "load_builtin",
    "load_scenario",
    "parse_scenario",
    "resolve_scenario",
]
