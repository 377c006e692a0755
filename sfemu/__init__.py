"""sfemu: a small Salesforce-compatible REST emulator for tests and demos.

Unmodified simple-salesforce talks to it over plain HTTP (``switchboard.transport`` rewrites its https://
URLs). Run ``python -m sfemu --port 8911 [--seed demo|large|empty] [--flows FILE|DIR|demo|package ...]
[--jwt-public-key PEM_FILE] [--latency S] [--unavailable-for S] [--limit-exceeded-for S]
[--invalid-session-for S] [--faults-include-logins] [--session-timeout S]`` or build the app with
``sfemu.app.create_app``. Demo credentials are ``sfemu.auth.Credentials()``.

Salesforce resources: SOAP login; OAuth token (password, client credentials, JWT bearer); sObject
describe/rows/upsert; query, queryAll and ``nextRecordsUrl`` paging; SOSL search; limits; sObject
Collections (``/composite/sobjects``); Composite (``/composite``); invocable flows
(``/actions/custom/flow``). Every HTTP request counts as at most one API request (``Sforce-Limit-Info``,
``/limits``), composite and collection requests included.

Emulator endpoints (``/__emulator``): ``GET health``; ``GET requests[?kind=api,login,control|all][&api=1]``
(entries ``{method, path, query, status, time, duration_ms, api, kind}``; ``api`` = counted against the limit);
``POST reset-log``; ``POST expire-sessions``; ``GET|POST faults`` (``{"latency", "unavailable_for",
"limit_exceeded_for", "invalid_session_for", "include_logins"}``, see ``sfemu.faults``); ``POST reset-faults``;
``GET|POST hidden-fields`` (``{"Task": ["Call_Result__c"]}``: those fields answer ``INVALID_FIELD`` as without
field-level access; ``{}`` shows them again); Omni-Channel (``sfemu.omni``): ``GET omni`` (every user's
current status DeveloperName or null, and open workload), ``POST omni/presence`` (``{"user": Id or Username,
"status": DeveloperName or null}``), ``POST omni/work`` (``{"user", "capacity_weight", "status", "work_item_id"}``)
and ``PATCH omni/work/<id>`` (``{"status": "Closed"}``).

Omni-Channel objects: ServicePresenceStatus (seeded: Available_Voice, Available_Chat, Busy, Lunch),
UserServicePresence and AgentWork are queryable; the API cannot insert them, nor update presence rows or
statuses (``INVALID_TYPE_FOR_OPERATION``, as for an entity type that does not support the call); AgentWork's
fields are read-only (``INVALID_FIELD_FOR_INSERT_UPDATE``); UserServicePresence and AgentWork rows can be deleted.

Sessions end after ``--session-timeout`` seconds without a request (2 h by default, as in Salesforce).

Deviation: ``RecordType`` and the Omni-Channel objects are queryable and describable but left out of describe
global (``GET /sobjects``).

Layout (one job per module):

- ``schema``: objects and fields; ``ids``: key prefixes and 15/18-character ids;
  ``values``: field value validation; ``store``: in-memory records (create/update/upsert/delete, snapshots).
- ``soql`` (syntax) and ``query`` (execution); ``sosl`` (syntax, term matching) and ``search``.
- ``render``: records as the API shows them; ``errors``: Salesforce error shapes.
- ``auth``: credentials, sessions, SOAP/OAuth bodies; ``jwt_bearer``: JWT assertion checks;
  ``state``: usage counter, request log, cursors; ``faults``: fault switches; ``gate``: per-request kind and
  faults; ``api_guard``: session check and counting for the data blueprints.
- ``sobject_collections``, ``composite``, ``flow_rules`` (rules files, ``flows/demo.yaml``) and ``flow_xml``
  (Flow metadata files: the Salesforce package's routing templates run as they are; ``flow_sources`` loads
  either): the logic of those resources.
- ``routes_auth``, ``routes_data``, ``routes_collections``, ``routes_composite``, ``routes_flows``,
  ``routes_control`` (``/__emulator``); ``omni``: Omni-Channel presence and work (control endpoints);
  ``seed``: demo data; ``testing``: start the emulator as a process in tests, make JWT key pairs.
"""
