"""Helpers shared by the integration and end-to-end tests (STYLE habit 14: never import one test module
from another). ``sipp``: customers that call over the PJSIP trunk; ``sipagent``: SIP-phone agents played
by SIPp; ``ami``: the tests' own AMI sessions; ``phone``: the web phone in Chromium; ``stack``: the CLI,
Salesforce and Asterisk's queues of a running stack; ``reconnect``, ``web``, ``worker``, ``model``.
"""
