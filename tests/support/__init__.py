"""Helpers shared by the integration and end-to-end tests (SIPp customers and SIP-phone agents)."""
