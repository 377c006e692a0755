"""Caller IDs as the carrier sent them: one number normaliser, and AMI's escaping of names undone once."""

from __future__ import annotations

import pytest

from orchestrator import events as ev
from orchestrator.model import CallEnded, CallOffered, Model
from orchestrator.translate import caller_name_text, translate
from switchboard.numbers import display_number, normalize_number


@pytest.mark.parametrize(("raw", "value", "shown"), [
    ("+1 (415) 555-0199", "+14155550199", "+14155550199"),
    ("+1(415)555-0199", "+14155550199", "+14155550199"),
    ("0401234567", "+358401234567", "+358401234567"),  # national, in the default region FI
    ("358401234567", "+358401234567", "+358401234567"),
    ("*31#12", "*31#12", "*31#12"),  # not a number: the raw text is kept
    ("12", "12", "12"),
    ("xfc2x1933", "xfc2x1933", "xfc2x1933"),  # an agent's name is not a vanity number
    ("agent1", "agent1", "agent1"),
    ("1-800-FLOWERS", "1-800-FLOWERS", "1-800-FLOWERS"),
    ("", "", "Hidden number"),
    ("   ", "", "Hidden number"),
    ("anonymous", "anonymous", "Anonymous"),
    ("Restricted", "anonymous", "Anonymous"),
])
def test_given_a_caller_number_then_it_is_e164_when_valid_raw_when_not_and_hidden_or_anonymous_when_absent(
        raw, value, shown):
    assert normalize_number(raw, "FI") == value
    assert display_number(normalize_number(raw, "FI")) == shown


# Captured from Asterisk 22.10 for a SIPp INVITE with
#   From: "O'Brien & Sons (Ltd.) ~*?! \\ \"q\" 😀" <sip:+1(415)555-0199@…>
# Newchannel (and every channel snapshot) C-escapes the name; QueueStatus' QueueEntry does not. Both keep the
# SIP display name's quoted-pairs (\\ and \").
SENT = "O'Brien & Sons (Ltd.) ~*?! \\ \"q\" 😀"
NEWCHANNEL_NAME = "O\\'Brien & Sons (Ltd.) ~*\\?! \\\\\\\\ \\\\\\\"q\\\\\\\" 😀"
QUEUE_ENTRY_NAME = "O'Brien & Sons (Ltd.) ~*?! \\\\ \\\"q\\\" 😀"


def test_given_ami_names_escaped_or_not_then_each_decodes_to_exactly_what_the_caller_sent():
    assert caller_name_text(NEWCHANNEL_NAME) == SENT
    assert caller_name_text(QUEUE_ENTRY_NAME, ami_escaped=False) == SENT
    joined = translate({"Event": "QueueCallerJoin", "Queue": "cs-en", "Uniqueid": "1.1", "Linkedid": "1.1",
                        "CallerIDNum": "+1(415)555-0199", "CallerIDName": NEWCHANNEL_NAME, "Position": "1"}, 1)
    listed = translate({"Event": "QueueEntry", "Queue": "cs-en", "Uniqueid": "1.1", "CallerIDNum": "unknown",
                        "CallerIDName": QUEUE_ENTRY_NAME, "Position": "1", "Wait": "3"}, 1)
    assert joined.caller_name == listed.caller_name == SENT
    assert listed.caller_number == ""  # QueueEntry's "unknown" is no number, not a withheld one


def test_given_long_emoji_and_control_names_then_they_survive_unchanged():
    long_name = "Ä" * 150 + "😀" * 50
    assert caller_name_text(long_name) == long_name
    assert caller_name_text("a\\tb\\nc") == "a\tb\nc"


def test_given_a_trunk_caller_then_the_model_keeps_the_normalised_number_and_the_name_as_sent():
    model = Model({"cs-en": "Customer Service EN"}, agents={"agent1"})
    model.apply(ev.ChannelCreated(1, "t1", "t1", "PJSIP/trunk-00000001", "+1(415)555-0199", SENT))
    model.apply(ev.CallerJoinedQueue(1, "cs-en", "t1", "t1", "+1(415)555-0199", SENT, 1))
    (offer,) = model.apply(ev.AgentRinging(2, "cs-en", "agent1", "t1", "l1"))
    assert isinstance(offer, CallOffered)
    assert (offer.call["caller_number"], offer.call["caller_display"], offer.call["caller_name"]) == (
        "+14155550199", "+14155550199", SENT)
    (ended,) = [c for c in model.apply(ev.ChannelHungUp(5, "t1", "t1", "PJSIP/trunk-00000001", 16))
                if isinstance(c, CallEnded)]
    assert ended.summary["caller_number"] == "+14155550199"


def test_given_a_caller_without_a_number_then_the_offer_says_hidden_number():
    model = Model({"cs-en": "Customer Service EN"}, agents={"agent1"})
    model.apply(ev.CallerJoinedQueue(1, "cs-en", "t1", "t1", "", "", 1))
    (offer,) = model.apply(ev.AgentRinging(2, "cs-en", "agent1", "t1", "l1"))
    assert (offer.call["caller_number"], offer.call["caller_display"]) == ("", "Hidden number")


# [sb-inbound]'s UserEvent as Asterisk 22.10 sent it for a SIPp caller with a 170-character name: the header
# whole, URI-encoded, while CallerIDName holds only the first 79 bytes.
FROM_HEADER = ("%22Smith%2C%20John%20(O'Brien)%20%5C%5C%20%5C%22q%5C%22%20%F0%9F%98%80%20" + "x" * 150
               + "%22%20%3Csip%3A%2B358401234567%40127.0.0.1%3E%3Btag%3D18276SIPpTag001")
WHOLE = "Smith, John (O'Brien) \\ \"q\" 😀 " + "x" * 150


def test_given_the_trunks_identity_header_then_the_whole_name_wins_over_asterisks_79_bytes():
    event = translate({"Event": "UserEvent", "UserEvent": "SwitchboardCaller", "Uniqueid": "1.5", "Linkedid": "1.5",
                       "CallerIDName": "Smith, John (O\\'Brien) \\\\\\\\ \\\\\\\"q\\\\\\\" 😀 xxxxxxxxxxx",
                       "Asserted": "", "From": FROM_HEADER}, 1)
    assert event == ev.CallerIdentity(1, "1.5", "1.5", WHOLE)
    model = Model({"cs-en": "Customer Service EN"}, agents={"agent1"})
    model.apply(event)
    model.apply(ev.CallerJoinedQueue(2, "cs-en", "1.5", "1.5", "+358401234567", "Smith, John (O'Brien) cut", 1))
    (offer,) = model.apply(ev.AgentRinging(3, "cs-en", "agent1", "1.5", "l1"))
    assert offer.call["caller_name"] == WHOLE


@pytest.mark.parametrize(("header", "name"), [
    ('"O\\"Brien \\\\ x" <sip:1@h>;tag=1', 'O"Brien \\ x'),
    ("Plain Name <sip:1@h>", "Plain Name"),
    ("<sip:1@h>;tag=1", ""),
    ("sip:1@h;tag=1", ""),
    ('"unterminated', "unterminated"),
    ("", ""),
])
def test_given_sip_name_addrs_then_the_display_name_is_read_as_sip_means_it(header, name):
    from orchestrator.translate import sip_display_name

    assert sip_display_name(header) == name


def test_given_an_asserted_identity_then_it_wins_over_from_as_in_asterisk():
    event = translate({"Event": "UserEvent", "UserEvent": "SwitchboardCaller", "Uniqueid": "1.6", "Linkedid": "1.6",
                       "Asserted": "%22Real%20Name%22%20%3Csip%3A%2B3581%40h%3E",
                       "From": "%22Spoofed%22%20%3Csip%3A1%40h%3E"}, 1)
    assert event.caller_name == "Real Name"


@pytest.mark.parametrize("user", ["dira4x1362094", "abc0401234567"])  # found by the e2e tests
def test_given_an_agents_user_name_with_digits_then_it_stays_text(user):
    assert normalize_number(user, "FI") == user


def test_given_an_empty_identity_header_then_asterisks_caller_name_stands():
    # [sb-inbound] sends From: '' when it cannot read the header (a name with an unbalanced ")"): the model
    # must not blank the name Asterisk has
    model = Model({"cs-en": "Customer Service EN"}, agents={"agent1"})
    model.apply(ev.CallerIdentity(1, "1.7", "1.7", ""))
    model.apply(ev.CallerJoinedQueue(2, "cs-en", "1.7", "1.7", "+358401234567", "{Robert'); DROP}", 1))
    (offer,) = model.apply(ev.AgentRinging(3, "cs-en", "agent1", "1.7", "l1"))
    assert offer.call["caller_name"] == "{Robert'); DROP}"
