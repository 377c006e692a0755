"""sfemu: a small Salesforce-compatible REST emulator for tests and demos.

Unmodified simple-salesforce talks to it over plain HTTP (see ``worker.transport``). Start it with
``python -m sfemu --port 8911`` or build the Flask app with ``sfemu.app.create_app``.
"""
