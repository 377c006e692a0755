/*
 * SwitchboardOmniSync: the pure decision logic of the Omni-Channel presence sync (write side).
 *
 * The Switchboard web phone (an Open CTI softphone) publishes the agent's Switchboard presence and the
 * admin's mapping table on the Lightning message channel SwitchboardPresence__c. The Aura utility
 * component SwitchboardOmniSync feeds every message and every Omni toolkit event to decide() and carries
 * out the actions it returns; nothing here touches the DOM, Aura or the network, so the same file runs
 * in Aura (loaded with ltng:require as the static resource SwitchboardOmniSyncLogic) and in Node tests.
 *
 * Inputs to decide(state, input) -- all {type, payload}:
 *   from the phone (message channel):
 *     presence            payload: Switchboard presence view {agent, status, kind, status_id, system, wrapup, ...}
 *     mapping             payload: [{omni_status_id, omni_developer_name, omni_kind, status, kind, direction}]
 *   from the Omni toolkit (the component translates events and promise results):
 *     omniStatusChanged   payload: {statusId, statusName, statusApiName, reason}
 *     omniLoginSuccess    payload: {statusId}
 *     omniLogout          payload: {}
 *     omniWorkloadChanged payload: {configuredCapacity, previousWorkload, newWorkload}
 *     omniCurrentStatus   payload: {statusId, statusApiName} (getServicePresenceStatusId; statusId null = logged out)
 *     omniSetResult       payload: {ok, statusId, statusApiName, error} (setServicePresenceStatus settled)
 *     omniLogoutResult    payload: {ok, error} (logout settled)
 *   Our own publications (omni_status, omni_logout, omni_workload, omni_error) echo back on the channel
 *   and are ignored, like any unknown type.
 *
 * Actions returned: {op: "setStatus", statusId} | {op: "logout"} | {op: "publish", message} | {op: "none"}.
 *
 * Rules:
 *   - Target: the first mapping row (direction both/to_omni) whose status is the status the agent's page
 *     shows (system status, else "Wrap Up" during wrap-up, else their own); the server's twin is
 *     switchboard.omni.target_omni. No row: Omni is left alone.
 *   - Edge-triggered: Omni is written only when the Omni target derived from the Switchboard presence
 *     changes, so repeating presence messages (queue toggles, schedules, a reloaded phone) never undo a
 *     status the agent picked in the Omni widget; the same target twice gives one setStatus.
 *   - No setStatus when Omni already has the target status; an "offline" target means logout.
 *   - Loop guard: the omniStatusChanged that follows our setStatus (reason OmniToolkitStatusChange, or the
 *     statusId we just set) and the omniLogout that follows our logout are not published back.
 *
 * ES5 only (Locker Service): no modules, no arrow functions, no Object.assign.
 */
(function (root, factory) {
  'use strict';
  var api = factory();
  if (typeof module === 'object' && module && module.exports) {
    module.exports = api;
  }
  if (root) {
    root.SwitchboardOmniSync = api;
  }
})(typeof window !== 'undefined' ? window : null, function () {
  'use strict';

  /** Target key meaning "log the agent out of Omni-Channel" (an omni_kind "offline" row). */
  var OFFLINE = 'OFFLINE';
  /** Switchboard's system status names a mapping row may use. */
  var WRAP_UP = 'Wrap Up';
  var IN_A_CALL = 'In a Call';
  /** omniStatusChanged reason when some component called the toolkit (us, normally). */
  var TOOLKIT_REASON = 'OmniToolkitStatusChange';

  function copy(obj) {
    var out = {};
    var key;
    if (obj) {
      for (key in obj) {
        if (Object.prototype.hasOwnProperty.call(obj, key)) {
          out[key] = obj[key];
        }
      }
    }
    return out;
  }

  /** Salesforce ids compare equal in their 15- and 18-character forms (the toolkit may report either). */
  function sameId(a, b) {
    if (!a || !b) {
      return false;
    }
    a = String(a);
    b = String(b);
    if (a === b) {
      return true;
    }
    return a.length >= 15 && b.length >= 15 && (a.length === 18 || b.length === 18) &&
      a.substring(0, 15) === b.substring(0, 15);
  }

  /** Whether a mapping row may write to Omni: direction both or to_omni (missing = both). */
  function writes(row) {
    var direction = row && typeof row === 'object' ? (row.direction || 'both') : '';
    return direction === 'both' || direction === 'to_omni';
  }

  /**
   * The status the agent's page shows: the system status (e.g. "In a Call") while one is set, else
   * "Wrap Up" during wrap-up, else the agent's own status. Twin of switchboard.omni.shown_status.
   */
  function shownStatus(view) {
    if (!view || typeof view !== 'object') {
      return '';
    }
    if (view.system && view.system.name) {
      return String(view.system.name);
    }
    if (view.wrapup) {
      return WRAP_UP;
    }
    return view.status ? String(view.status) : '';
  }

  /**
   * The first writing mapping row for the shown status, or null. Twin of switchboard.omni.target_omni
   * (the server uses it to recognise a status this component wrote), so names match exactly and an
   * unmapped system status does not fall through to the agent's own status: Omni is left alone.
   */
  function targetRow(view, mapping) {
    var shown = shownStatus(view);
    var i;
    if (!shown || !mapping || typeof mapping.length !== 'number') {
      return null;
    }
    for (i = 0; i < mapping.length; i++) {
      if (writes(mapping[i]) && mapping[i].status === shown) {
        return mapping[i];
      }
    }
    return null;
  }

  /**
   * The omni_status_id the agent's Omni status should be for this presence view; OFFLINE when the
   * mapped Omni status is Offline (omni_kind "offline": that is a logout); null when nothing maps or the
   * row has no id (leave Omni alone).
   */
  function targetOmniStatus(view, mapping) {
    var row = targetRow(view, mapping);
    if (!row) {
      return null;
    }
    if (row.omni_kind === 'offline') {
      return OFFLINE;
    }
    return row.omni_status_id ? String(row.omni_status_id) : null;
  }

  function initialState() {
    return {
      mapping: [],
      view: null,
      target: null, // the last target acted upon (omni status id, OFFLINE or null)
      omni: { statusId: null, statusApiName: null, loggedIn: null }, // loggedIn null = unknown
      pending: null, // statusId (or OFFLINE) whose toolkit call has not settled yet
      expect: null // statusId we set (or OFFLINE after our logout) whose Omni event is not yet seen
    };
  }

  function message(type, payload) {
    return { op: 'publish', message: { type: type, payload: payload } };
  }

  function num(value) {
    var n = Number(value);
    return value === null || value === undefined || value === '' || isNaN(n) ? null : n;
  }

  /** Payloads are objects; a JSON string (some publishers serialize) is parsed, bad JSON is null. */
  function parsed(payload) {
    if (typeof payload !== 'string') {
      return payload === undefined ? null : payload;
    }
    try {
      return JSON.parse(payload);
    } catch (e) {
      return null;
    }
  }

  function errorText(error) {
    if (!error) {
      return 'unknown error';
    }
    if (typeof error === 'string') {
      return error;
    }
    return String(error.message || error.error || error);
  }

  /** Compute the target and, when it changed, the action that brings Omni there. Mutates `s`. */
  function reconcile(s) {
    var target = targetOmniStatus(s.view, s.mapping);
    if (target === s.target) {
      return [];
    }
    s.target = target;
    if (target === null) {
      return [];
    }
    if (target === OFFLINE) {
      if (s.omni.loggedIn === false || s.pending === OFFLINE) {
        return [];
      }
      s.pending = s.expect = OFFLINE;
      return [{ op: 'logout' }];
    }
    if (sameId(s.pending, target)) {
      return []; // already on its way
    }
    if (s.omni.loggedIn !== false && sameId(s.omni.statusId, target)) {
      return []; // Omni is there already
    }
    s.pending = s.expect = target;
    return [{ op: 'setStatus', statusId: target }];
  }

  /**
   * One step of the sync: (state, input) -> {state, actions}. Pure: `state` is not modified;
   * pass undefined for the initial state. `actions` is never empty ([{op: "none"}] when idle).
   */
  function decide(state, input) {
    var s = copy(state || initialState());
    var payload = parsed(input && input.payload);
    var p = payload || {};
    var actions = [];
    var ours;
    s.omni = copy(s.omni);

    switch (input && input.type) {
      case 'mapping':
        if (payload && typeof payload === 'object' && typeof payload.length === 'number') {
          s.mapping = payload;
          actions = reconcile(s);
        }
        break;

      case 'presence':
        s.view = payload && typeof payload === 'object' ? payload : null;
        actions = reconcile(s);
        break;

      case 'omniStatusChanged':
        ours = p.reason === TOOLKIT_REASON || sameId(s.expect, p.statusId);
        s.expect = null; // seen it, or Omni moved on (an echo never seen must not swallow a later change)
        s.omni = { statusId: p.statusId || null, statusApiName: p.statusApiName || null, loggedIn: true };
        if (!ours) {
          actions.push(message('omni_status', {
            statusId: p.statusId || null,
            statusApiName: p.statusApiName || null,
            reason: p.reason || null
          }));
        }
        break;

      case 'omniLoginSuccess':
        s.omni = { statusId: p.statusId || null, statusApiName: null, loggedIn: true };
        if (s.expect === OFFLINE) {
          s.expect = null;
        }
        break;

      case 'omniLogout':
        s.omni = { statusId: null, statusApiName: null, loggedIn: false };
        if (s.expect === OFFLINE) {
          s.expect = null; // the logout we asked for
        } else {
          s.expect = null;
          actions.push(message('omni_logout', { explicit: true }));
        }
        break;

      case 'omniWorkloadChanged':
        actions.push(message('omni_workload', {
          configuredCapacity: num(p.configuredCapacity),
          newWorkload: num(p.newWorkload)
        }));
        break;

      case 'omniCurrentStatus':
        if (p.statusId) {
          s.omni = { statusId: p.statusId, statusApiName: p.statusApiName || null, loggedIn: true };
        } else if (!p.error) {
          s.omni = { statusId: null, statusApiName: null, loggedIn: false };
        } // an error leaves it unknown
        break;

      case 'omniSetResult':
        if (sameId(s.pending, p.statusId) || !p.statusId) {
          s.pending = null;
        }
        if (p.ok) {
          s.omni = { statusId: p.statusId || null, statusApiName: p.statusApiName || null, loggedIn: true };
          // keep `expect` until the omniStatusChanged it causes has been seen
        } else {
          if (sameId(s.expect, p.statusId)) {
            s.expect = null;
          }
          s.target = null; // retry on the next presence message
          actions.push(message('omni_error', { op: 'setStatus', statusId: p.statusId || null, error: errorText(p.error) }));
        }
        break;

      case 'omniLogoutResult':
        if (s.pending === OFFLINE) {
          s.pending = null;
        }
        if (p.ok) {
          s.omni = { statusId: null, statusApiName: null, loggedIn: false };
        } else {
          if (s.expect === OFFLINE) {
            s.expect = null;
          }
          s.target = null;
          actions.push(message('omni_error', { op: 'logout', statusId: null, error: errorText(p.error) }));
        }
        break;

      default:
        // omni_status / omni_logout / omni_workload / omni_error (our own, echoed) and unknown types
        break;
    }

    if (!actions.length) {
      actions.push({ op: 'none' });
    }
    return { state: s, actions: actions };
  }

  return {
    OFFLINE: OFFLINE,
    WRAP_UP: WRAP_UP,
    IN_A_CALL: IN_A_CALL,
    TOOLKIT_REASON: TOOLKIT_REASON,
    initialState: initialState,
    sameId: sameId,
    shownStatus: shownStatus,
    targetRow: targetRow,
    targetOmniStatus: targetOmniStatus,
    decide: decide
  };
});
