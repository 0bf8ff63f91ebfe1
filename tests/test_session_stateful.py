"""A hypothesis state machine drives two KisSessions (sharing one ApprovalKeys) with random valid and
invalid requests, and checks every reply against a small model of the rules."""

from __future__ import annotations

import json

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kis_replay.codec import MAX_REGISTRATIONS, SubscribeRequest, build_pingpong, parse_reply
from kis_replay.fake_server.approval import ApprovalKeys
from kis_replay.fake_server.catalog import Catalog
from kis_replay.fake_server.session import KisSession

CATALOG = Catalog.of(routes={("H0ZFASP0", "100V06")}, encrypted_tr_ids={"H0IFCNI0"})
TR_IDS = ["H0ZFASP0", "H0IFCNI0", "NOPE0000", ""]
KEYS = [f"1{i:02d}V06" for i in range(60)] + ["", "1", "a-b", "1234567890123"]
APPROVAL = ["k1", "k2"]


def well_formed(tr_id: str, key: str) -> bool:
    width = (6, 9) if tr_id == "H0ZFASP0" else (1, 12)
    return key.isascii() and key.isalnum() and width[0] <= len(key) <= width[1]


class SessionMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.keys = ApprovalKeys()
        self.next_id = 0
        self.sessions: list[KisSession] = []
        self.model: list[set[tuple[str, str]]] = []
        self.held: list[set[str]] = []  # approval keys each session holds, in the model
        for _ in range(2):
            self._open()

    def _open(self) -> None:
        self.next_id += 1
        self.sessions.append(KisSession(self.next_id, CATALOG, self.keys))
        self.model.append(set())
        self.held.append(set())

    def _reply(self, i: int, text: str | bytes):
        response = self.sessions[i].receive(text)
        assert response.reply is not None, "every request gets exactly one reply"
        reply = parse_reply(response.text)  # the wire text is a well-formed reply
        assert reply.msg_cd and (reply.ok == (response.problem is None))
        return reply, response

    def _expected(self, i: int, tr_id: str, key: str, tr_type: str, approval: str) -> str:
        if any(approval in held for j, held in enumerate(self.held) if j != i):
            return "OPSP8996"
        self.held[i].add(approval)
        if tr_id not in ("H0ZFASP0", "H0IFCNI0"):
            return "OPSP8991"
        if not well_formed(tr_id, key):
            return "OPSP8992"
        pair = (tr_id, key)
        if tr_type == "2":
            return "OPSP0001" if pair in self.model[i] else "OPSP0003"
        if pair in self.model[i]:
            return "OPSP0002"
        return "OPSP0008" if len(self.model[i]) >= MAX_REGISTRATIONS else "OPSP0000"

    def _request(self, i: int, tr_id: str, key: str, tr_type: str, approval: str) -> None:
        text = SubscribeRequest(tr_id, key, tr_type=tr_type, approval_key=approval).to_json()
        expected = self._expected(i, tr_id, key, tr_type, approval)
        reply, response = self._reply(i, text)
        assert reply.msg_cd == expected, (tr_id, key, tr_type, approval)
        if expected == "OPSP0000":
            self.model[i].add((tr_id, key))
            assert response.added is not None and reply.output is not None
            assert reply.encrypt == ("Y" if tr_id == "H0IFCNI0" else "N")
        elif expected == "OPSP0001":
            self.model[i].discard((tr_id, key))
            assert response.removed is not None
        else:
            assert response.added is None and response.removed is None

    @rule(i=st.integers(0, 1), tr_id=st.sampled_from(TR_IDS), key=st.sampled_from(KEYS),
          tr_type=st.sampled_from(["1", "1", "2"]), approval=st.sampled_from(APPROVAL))
    def request(self, i, tr_id, key, tr_type, approval):
        self._request(i, tr_id, key, tr_type, approval)

    @rule(i=st.integers(0, 1), start=st.integers(0, 59), n=st.integers(1, 45))
    def subscribe_many(self, i, start, n):
        for k in range(n):
            self._request(i, "H0ZFASP0", KEYS[(start + k) % 60], "1", APPROVAL[i])

    @rule(i=st.integers(0, 1), junk=st.one_of(st.text(max_size=40), st.binary(max_size=40)))
    def garbage(self, i, junk):
        response = self.sessions[i].receive(junk)
        if response.reply is None:  # only a real PINGPONG echo is taken silently
            text = junk.decode() if isinstance(junk, bytes) else junk
            assert json.loads(text)["header"]["tr_id"] == "PINGPONG"
        else:
            assert not response.reply.ok

    @rule(i=st.integers(0, 1), drop=st.sampled_from(["header", "body", "input", "custtype", "tr_type", "tr_key"]))
    def missing_part(self, i, drop):
        obj = json.loads(SubscribeRequest("H0ZFASP0", "101V06", approval_key=APPROVAL[i]).to_json())
        if drop in ("header", "body"):
            del obj[drop]
        elif drop == "input":
            del obj["body"]["input"]
        elif drop == "tr_key":
            del obj["body"]["input"]["tr_key"]
        else:
            del obj["header"][drop]
        reply, _ = self._reply(i, json.dumps(obj))
        expected = {"header": "OPSP9998", "body": "OPSP9992", "input": "OPSP9991", "custtype": "OPSP9997",
                    "tr_type": "OPSP8997", "tr_key": "OPSP9990"}[drop]
        assert reply.msg_cd == expected

    @rule(i=st.integers(0, 1))
    def pingpong_echo(self, i):
        before = self.sessions[i].requests
        assert self.sessions[i].receive(build_pingpong()).reply is None
        assert self.sessions[i].requests == before

    @precondition(lambda self: self.next_id < 6)
    @rule(i=st.integers(0, 1))
    def reconnect(self, i):
        self.sessions[i].close()
        del self.sessions[i], self.model[i], self.held[i]
        self._open()

    @invariant()
    def routing_equals_acked_subscriptions(self):
        for s, model in zip(self.sessions, self.model, strict=True):
            assert len(s.subscriptions) <= MAX_REGISTRATIONS
            assert {(sub.tr_id, sub.tr_key) for sub in s.subscriptions} == model
            assert s.routes == model | {(tr_id, None) for tr_id, _ in model}


SessionMachine.TestCase.settings = settings(SessionMachine.TestCase.settings, stateful_step_count=60)
TestSessionMachine = SessionMachine.TestCase
