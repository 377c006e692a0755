"""sfemu: a small Salesforce-compatible REST emulator for tests and demos.

Unmodified simple-salesforce talks to it over plain HTTP (``worker.transport`` rewrites its https://
URLs). Run ``python -m sfemu --port 8911 [--seed demo|empty]`` or build the app with
``sfemu.app.create_app``. Demo credentials are ``sfemu.auth.Credentials()``.

Layout (one job per module, so features such as sObject Collections, Composite or fault switches
are added as a new ``routes_*.py`` blueprint registered in ``app.create_app``):

- ``schema``: objects and fields; ``ids``: key prefixes and 15/18-character ids;
  ``values``: field value validation; ``store``: in-memory records (create/update/upsert/delete).
- ``soql`` (syntax) and ``query`` (execution); ``sosl`` (syntax, term matching) and ``search``.
- ``render``: records as the API shows them; ``errors``: Salesforce error shapes.
- ``auth``: credentials, sessions, SOAP/OAuth bodies; ``state``: usage counter, request log, cursors.
- ``routes_auth``, ``routes_data``, ``routes_control`` (``/__emulator``); ``seed``: demo data;
  ``testing``: start the emulator as a process in tests.
"""
