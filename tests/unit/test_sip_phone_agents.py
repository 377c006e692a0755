"""Agents on a SIP phone: their endpoints come from the SIP template, a registration that goes does not
take their calls back, and the page's call control acts only on the agent's own leg of a call."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from orchestrator import events as ev
from orchestrator import model as m
from orchestrator.callcontrol import CallControl
from orchestrator.provisioning import render_agents
from switchboard.commands import NoOrchestrator, request
from switchboard.sip import PhoneAccount, derive_sip_password, phone_account

AGENTS = frozenset({"agent1", "agent2", "agent3"})


def agent(name: str, device: str) -> SimpleNamespace:
    return SimpleNamespace(sip_username=name, sip_md5_cred="0" * 32, device=device,
                           user=SimpleNamespace(display_name=name.title()))


def queue_call_answered_by(model: m.Model, name: str) -> None:
    """A customer (c1) in cs-en answered by ``name``'s phone (p1) through the server leg (l1;1, l2;2)."""
    model.apply(ev.ChannelCreated(10, "100.1", "100.1", "PJSIP/trunk-00000001", "+358401234567", "Maija"))
    model.apply(ev.CallerJoinedQueue(10.1, "cs-en", "100.1", "100.1", "+358401234567", "Maija", 1))
    model.apply(ev.ChannelCreated(11, "100.2", "100.1", f"Local/{name}@sb-agent-00000001;1", "", ""))
    model.apply(ev.ChannelCreated(11, "100.3", "100.1", f"Local/{name}@sb-agent-00000001;2", "", ""))
    model.apply(ev.ChannelCreated(11.1, "100.4", "100.1", f"PJSIP/{name}-00000002", "", ""))
    for uniqueid, bridge in (("100.1", "b1"), ("100.2", "b1"), ("100.3", "b2"), ("100.4", "b2")):
        model.apply(ev.BridgeChanged(13, uniqueid, bridge, True))


def test_given_a_sip_device_then_the_endpoint_and_aor_come_from_the_sip_templates():
    text = render_agents([agent("agent1", "webrtc"), agent("agent2", "sip")])
    assert "[agent1](sb-agent-endpoint)" in text and "[agent1](sb-agent-aor)" in text
    assert "[agent2](sb-agent-sip-endpoint)" in text and "[agent2](sb-agent-sip-aor)" in text
    assert "[agent2](sb-agent-auth)\nusername = agent2\nmd5_cred = " + "0" * 32 in text


def test_given_the_sip_endpoint_template_then_no_webrtc_no_five_second_rtp_timeout_and_tcp_exists():
    from control.asterisk import CONF_SOURCE

    conf = (CONF_SOURCE / "pjsip.conf").read_text()
    template = conf.split("[sb-agent-sip-endpoint](!)")[1].split("\n[")[0]
    assert "webrtc" not in template and "context = from-agents" in template
    assert "rtp_timeout = 120" in template and "dtmf_mode = rfc4733" in template
    assert "[transport-tcp]" in conf and "generated/pjsip_transport_tcp.conf" in conf


def test_given_settings_then_a_phone_account_has_what_a_desk_phone_needs():
    from switchboard.config import Settings

    settings = Settings(secret_key="k", sip_domain="pbx.example", sip_udp_port=5070, sip_tcp_port=5071)
    account = phone_account(settings, "agent2", 3)
    assert account == PhoneAccount("agent2", derive_sip_password("k", "agent2", 3), "pbx.example", 5070, 5071)
    text = "\n".join(account.lines())
    assert account.password in text and "5070 (UDP), 5071 (TCP)" in text and "switchboard" in text
    assert account.to_dict()["transports"] == ["udp", "tcp"]


def test_given_a_sip_phone_agent_when_its_registration_goes_mid_call_then_the_call_is_not_taken_back():
    model = m.Model(agents=AGENTS)
    model.apply(ev.AgentsProvisioned(1, AGENTS, frozenset({"agent2"})))
    model.apply(ev.ContactChanged(5, "agent2", True, "sip:agent2@127.0.0.1:5090"))
    queue_call_answered_by(model, "agent2")
    changes = model.apply(ev.ContactChanged(20, "agent2", False, "sip:agent2@127.0.0.1:5090"))
    assert not [c for c in changes if isinstance(c, m.AgentLegLost)]
    assert [c.view["registered"] for c in changes if isinstance(c, m.AgentChanged)] == [False]
    # the same call on the web phone is taken back at once
    browser = m.Model(agents=AGENTS)
    browser.apply(ev.ContactChanged(5, "agent1", True, "sip:x@ws"))
    queue_call_answered_by(browser, "agent1")
    changes = browser.apply(ev.ContactChanged(20, "agent1", False, "sip:x@ws"))
    lost = [c for c in changes if isinstance(c, m.AgentLegLost)]
    assert [(c.leg_channel, c.agent_channel) for c in lost] == [("PJSIP/trunk-00000001", "PJSIP/agent1-00000002")]


def test_given_an_agent_on_a_call_then_agent_leg_is_their_bridged_channel_and_none_for_anyone_else():
    model = m.Model(agents=AGENTS)
    queue_call_answered_by(model, "agent2")
    assert model.agent_leg("agent2", "100.1") == m.AgentLeg("PJSIP/agent2-00000002", "100.4", True,
                                                            "Local/agent2@sb-agent-00000001;2")
    assert model.agent_leg("agent1", "100.1") is None
    assert model.agent_leg("agent2", "999.9") is None
    model.apply(ev.ChannelCreated(30, "100.10", "100.1", "PJSIP/agent2-00000003", "", ""))  # a second, ringing leg
    assert model.agent_leg("agent2", "100.1").channel == "PJSIP/agent2-00000002"  # the bridged one wins


class FakeAmi:
    def __init__(self, response: dict | None = None) -> None:
        self.sent: list[dict] = []
        self.response = response or {"Response": "Success"}

    async def __call__(self, action: dict) -> dict:
        self.sent.append(action)
        return self.response


def control(model: m.Model, ami: FakeAmi) -> CallControl:
    return CallControl(model, ami)


def test_given_an_answered_call_when_the_agent_hangs_up_from_the_page_then_the_peer_is_told_first():
    model = m.Model(agents=AGENTS)
    queue_call_answered_by(model, "agent2")
    ami = FakeAmi()
    answer = asyncio.run(control(model, ami).hangup({"agent": "agent2", "call_id": "100.1"}))
    assert answer == {"ok": True, "call_id": "100.1", "declined": False}
    assert ami.sent == [
        {"Action": "Setvar", "Channel": "Local/agent2@sb-agent-00000001;2", "Variable": "SHARED(SB_HUNGUP)",
         "Value": "1"},
        {"Action": "Hangup", "Channel": "PJSIP/agent2-00000002", "Cause": "16"}]


def test_given_a_ringing_phone_when_the_agent_hangs_up_from_the_page_then_it_is_declined():
    model = m.Model(agents=AGENTS)
    model.apply(ev.ChannelCreated(11.1, "100.4", "100.1", "PJSIP/agent2-00000002", "", ""))
    ami = FakeAmi()
    answer = asyncio.run(control(model, ami).hangup({"agent": "agent2", "call_id": "100.1"}))
    assert answer["declined"] is True
    assert ami.sent == [{"Action": "Hangup", "Channel": "PJSIP/agent2-00000002", "Cause": "21"}]


@pytest.mark.parametrize(("command", "error"), [
    ({"agent": "agent1", "call_id": "100.1", "target": "+35891000002"}, "not_on_call"),
    ({"agent": "agent2", "call_id": "100.1", "target": "nobody"}, "unknown_target"),
    ({"agent": "agent2", "call_id": "100.1", "target": "agent2"}, "bad_target"),
    ({"agent": "agent2", "call_id": "100.1", "target": "x; Hangup"}, "bad_target"),
    ({"agent": "agent2", "call_id": "100.1"}, "bad_target"),
])
def test_given_a_transfer_that_cannot_be_then_the_answer_is_an_error_and_asterisk_is_not_asked(command, error):
    model = m.Model(agents=AGENTS)
    queue_call_answered_by(model, "agent2")
    ami = FakeAmi()
    answer = asyncio.run(control(model, ami).transfer(command))
    assert answer["error"] == error and answer["message"]
    assert ami.sent == []


def test_given_an_answered_call_when_the_agent_transfers_from_the_page_then_asterisk_blind_transfers_their_leg():
    model = m.Model(agents=AGENTS)
    queue_call_answered_by(model, "agent2")
    ami = FakeAmi()
    for target in ("agent1", "+35891000002"):
        answer = asyncio.run(control(model, ami).transfer({"agent": "agent2", "call_id": "100.1", "target": target}))
        assert answer == {"ok": True, "call_id": "100.1", "target": target}
    assert ami.sent[-1] == {"Action": "BlindTransfer", "Channel": "PJSIP/agent2-00000002", "Context": "from-agents",
                            "Exten": "+35891000002"}
    refused = FakeAmi({"Response": "Error", "Message": "No such channel"})
    answer = asyncio.run(control(model, refused).transfer({"agent": "agent2", "call_id": "100.1", "target": "agent1"}))
    assert answer == {"error": "asterisk_refused", "message": "The transfer failed: No such channel."}


def test_given_a_ringing_call_when_the_agent_transfers_then_they_are_told_to_answer_first():
    model = m.Model(agents=AGENTS)
    model.apply(ev.ChannelCreated(11.1, "100.4", "100.1", "PJSIP/agent2-00000002", "", ""))
    command = {"agent": "agent2", "call_id": "100.1", "target": "agent1"}
    assert asyncio.run(control(model, FakeAmi()).transfer(command))["error"] == "not_answered"


class AsteriskConsults(FakeAmi):
    """Atxfer moves the agent's leg (100.4) into the consultation's bridge, as Asterisk does."""

    def __init__(self, model: m.Model, *, moves: bool = True) -> None:
        super().__init__()
        self.model, self.moves = model, moves

    async def __call__(self, action: dict) -> dict:
        if action["Action"] == "Atxfer" and self.moves:
            self.model.apply(ev.ChannelCreated(40, "100.20", "100.1", "Local/10@sb-consult-00000009;1", "", ""))
            self.model.apply(ev.BridgeChanged(40, "100.4", "consult", True))
            self.model.apply(ev.BridgeChanged(40, "100.20", "consult", True))
        return await super().__call__(action)


def test_given_an_answered_call_when_the_agent_consults_from_the_page_then_asterisk_dials_and_the_keys_end_it():
    model = m.Model(agents=AGENTS)
    queue_call_answered_by(model, "agent2")
    ami = AsteriskConsults(model)
    calls = control(model, ami)
    command = {"agent": "agent2", "call_id": "100.1"}
    assert asyncio.run(calls.consult_complete(command))["error"] == "not_consulting"  # *2 would start one
    assert asyncio.run(calls.consult({**command, "target": "agent1"}))["state"] == "dialing"
    assert ami.sent == [
        {"Action": "Setvar", "Channel": "PJSIP/agent2-00000002", "Variable": "__SB_CONSULT_TARGET", "Value": "agent1"},
        {"Action": "Atxfer", "Channel": "PJSIP/agent2-00000002", "Context": "sb-consult", "Exten": "10"}]
    assert asyncio.run(calls.consult_state(command))["state"] == "dialing"  # the Local channel's ;2 still rings
    assert asyncio.run(calls.consult({**command, "target": "agent1"}))["error"] == "consulting"
    assert asyncio.run(calls.transfer({**command, "target": "agent1"}))["error"] == "consulting"
    model.apply(ev.ChannelCreated(41, "100.21", "100.1", "PJSIP/agent1-00000009", "", ""))  # answered: optimised
    model.apply(ev.BridgeChanged(41, "100.20", "consult", False))
    model.apply(ev.BridgeChanged(41, "100.21", "consult", True))
    assert asyncio.run(calls.consult_state(command))["state"] == "in_call"
    del ami.sent[:]
    assert asyncio.run(calls.consult_complete(command)) == {"ok": True, "call_id": "100.1"}
    assert ami.sent == [{"Action": "PlayDTMF", "Channel": "PJSIP/agent2-00000002", "Digit": d, "Receive": "yes"}
                        for d in "*2"]
    assert asyncio.run(calls.consult_state(command))["state"] == ""


def test_given_a_queue_number_then_a_consultation_is_refused_before_asterisk_is_asked():
    model = m.Model(agents=AGENTS, queue_numbers={"cs-fi": "+35891000002"})
    queue_call_answered_by(model, "agent2")
    ami = FakeAmi()
    answer = asyncio.run(control(model, ami).consult({"agent": "agent2", "call_id": "100.1", "target": "+35891000002"}))
    assert answer["error"] == "bad_target" and ami.sent == []


def test_given_asterisk_does_not_start_the_consultation_then_the_page_is_told_to_try_again():
    model = m.Model(agents=AGENTS)
    queue_call_answered_by(model, "agent2")
    calls = CallControl(model, AsteriskConsults(model, moves=False), clock=iter(range(0, 100, 2)).__next__)
    answer = asyncio.run(calls.consult({"agent": "agent2", "call_id": "100.1", "target": "+35891000002"}))
    assert answer["error"] == "asterisk_refused"
    assert asyncio.run(calls.consult_state({"agent": "agent2", "call_id": "100.1"}))["state"] == ""


def test_given_an_agent_then_device_state_is_the_agent_state_view():
    model = m.Model(agents=AGENTS)
    model.apply(ev.ContactChanged(5, "agent2", True, "sip:agent2@127.0.0.1:5090"))
    view = asyncio.run(control(model, FakeAmi()).device_state({"agent": "agent2"}))
    assert view["registered"] is True and view["agent"] == "agent2"
    assert asyncio.run(control(model, FakeAmi()).device_state({"agent": "trunk"}))["error"] == "unknown_agent"


class FakeRedis:
    def __init__(self, subscribers: int, answer: object) -> None:
        self.subscribers, self.answer, self.published = subscribers, answer, []

    def publish(self, channel: str, message: str) -> int:
        self.published.append(json.loads(message))
        return self.subscribers

    def blpop(self, keys: list[str], timeout: float) -> tuple[bytes, bytes] | None:
        return None if self.answer is None else (keys[0].encode(), json.dumps(self.answer).encode())


def test_given_a_request_then_it_carries_a_reply_key_and_returns_the_answer_or_says_why_not():
    client = FakeRedis(1, {"ok": True})
    assert request(client, "call_hangup", agent="agent2", call_id="1.1") == {"ok": True}  # type: ignore[arg-type]
    sent = client.published[0]
    assert sent["command"] == "call_hangup" and sent["reply_to"].startswith("switchboard:reply:")
    with pytest.raises(NoOrchestrator) as none:
        request(FakeRedis(0, None), "call_hangup")  # type: ignore[arg-type]
    assert none.value.error == "orchestrator_unavailable"
    with pytest.raises(NoOrchestrator) as late:
        request(FakeRedis(1, None), "call_hangup", timeout=0.1)  # type: ignore[arg-type]
    assert late.value.error == "orchestrator_timeout"
