// Tests of the Omni-Channel presence sync decision logic (static resource SwitchboardOmniSyncLogic),
// replaying the message streams the Switchboard web phone and the Omni toolkit produce.
// Run: node --test salesforce/tests/
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const Sync = require(path.join(__dirname, '..', 'force-app', 'main', 'default', 'staticresources',
  'SwitchboardOmniSyncLogic.js'));

// ServicePresenceStatus ids as SOQL returns them (18 chars); the toolkit reports the 15-char form.
const AVAILABLE = '0N5Hp0000000001AAA';
const ON_CALL = '0N5Hp0000000002AAA';
const AFTER_CALL = '0N5Hp0000000003AAA';
const BREAK = '0N5Hp0000000004AAA';
const TRAINING = '0N5Hp0000000005AAA';
const short = (id) => id.slice(0, 15);

const MAPPING = [
  { omni_status_id: AVAILABLE, omni_developer_name: 'Available', omni_kind: 'online', status: 'Available', kind: 'available', direction: 'both' },
  { omni_status_id: ON_CALL, omni_developer_name: 'On_a_Call', omni_kind: 'busy', status: 'In a Call', kind: 'busy', direction: 'to_omni' },
  { omni_status_id: AFTER_CALL, omni_developer_name: 'After_Call_Work', omni_kind: 'busy', status: 'Wrap Up', kind: 'busy', direction: 'to_omni' },
  { omni_status_id: BREAK, omni_developer_name: 'Break', omni_kind: 'busy', status: 'Lunch', kind: 'dnd', direction: 'both' },
  { omni_status_id: TRAINING, omni_developer_name: 'Training', omni_kind: 'busy', status: 'Training', kind: 'dnd', direction: 'from_omni' },
  { omni_status_id: null, omni_developer_name: 'Offline', omni_kind: 'offline', status: 'Off Work', kind: 'offwork', direction: 'both' },
];

/** A presence view as switchboard.presence.view() builds it. */
function view(status, kind, extra) {
  return Object.assign({
    agent: 'alice1', status_id: 1, status, kind, since: 1700000000, until: null, previous: null,
    receive_pool_calls: true, queues: [{ name: 'support', label: 'Support', active: true, paused: false, reason: '' }],
    system: null, wrapup: null, schedules: [],
  }, extra || {});
}
const RINGING = { system: { name: 'In a Call', kind: 'busy', since: 1700000100 } };
const WRAPPING = { wrapup: { call_id: 'c-1', queue: 'support', until: 1700000200, codes: [], required: false } };

/**
 * Feeds inputs to decide() like the Aura helper does. With `toolkit: true`, every setStatus / logout is
 * answered the way the Omni toolkit does it: the promise result, then the omniStatusChanged event
 * (reason OmniToolkitStatusChange, 15-char id) or omniChannelLogout.
 */
function harness(options) {
  const opts = Object.assign({ toolkit: true }, options);
  const h = { state: undefined, actions: [], log: [] };
  h.send = function send(type, payload) {
    const result = Sync.decide(h.state, { type, payload });
    assert.ok(Array.isArray(result.actions) && result.actions.length > 0, 'actions is never empty');
    h.state = result.state;
    for (const action of result.actions) {
      if (action.op === 'none') continue;
      h.actions.push(action);
      if (!opts.toolkit) continue;
      if (action.op === 'setStatus') {
        h.send('omniSetResult', { ok: true, statusId: action.statusId, statusApiName: 'x' });
        h.send('omniStatusChanged', { statusId: short(action.statusId), statusName: 'x', statusApiName: 'x',
          reason: 'OmniToolkitStatusChange' });
      } else if (action.op === 'logout') {
        h.send('omniLogoutResult', { ok: true });
        h.send('omniLogout', {});
      }
    }
    return result;
  };
  h.ops = () => h.actions.map((a) => (a.op === 'setStatus' ? `set:${a.statusId}` : a.op === 'publish'
    ? `publish:${a.message.type}` : a.op));
  h.published = () => h.actions.filter((a) => a.op === 'publish').map((a) => a.message);
  h.take = () => { const ops = h.ops(); h.actions = []; return ops; };
  return h;
}

test('targetOmniStatus: system status first, then Wrap Up, then the chosen status', () => {
  assert.equal(Sync.targetOmniStatus(view('Available', 'available'), MAPPING), AVAILABLE);
  assert.equal(Sync.targetOmniStatus(view('Available', 'available', RINGING), MAPPING), ON_CALL);
  assert.equal(Sync.targetOmniStatus(view('Available', 'available', WRAPPING), MAPPING), AFTER_CALL);
  // a call rings during wrap-up: the system status wins
  assert.equal(Sync.targetOmniStatus(view('Available', 'available', Object.assign({}, WRAPPING, RINGING)), MAPPING),
    ON_CALL);
  assert.equal(Sync.targetOmniStatus(view('Lunch', 'dnd'), MAPPING), BREAK);
  assert.equal(Sync.targetOmniStatus(view('Off Work', 'offwork'), MAPPING), Sync.OFFLINE);
  assert.equal(Sync.shownStatus(view('Lunch', 'dnd', RINGING)), 'In a Call');
  assert.equal(Sync.shownStatus(view('Lunch', 'dnd', WRAPPING)), 'Wrap Up');
  assert.equal(Sync.shownStatus(view('Lunch', 'dnd')), 'Lunch');
  // names match exactly, as the server's twin (switchboard.omni.target_omni) matches them
  assert.equal(Sync.targetOmniStatus(view('lunch', 'dnd'), MAPPING), null);
});

test('targetOmniStatus: the shown status only; nothing mapped is null', () => {
  // an unmapped system status does not fall through to the agent's own status: Omni is left alone
  const noCall = MAPPING.filter((r) => r.status !== 'In a Call');
  assert.equal(Sync.targetOmniStatus(view('Lunch', 'dnd', RINGING), noCall), null);
  assert.equal(Sync.targetOmniStatus(view('Meeting', 'dnd'), MAPPING), null);
  assert.equal(Sync.targetOmniStatus(view('Training', 'dnd'), MAPPING), null, 'from_omni rows never write');
  assert.equal(Sync.targetOmniStatus(null, MAPPING), null);
  assert.equal(Sync.targetOmniStatus(view('Available', 'available'), []), null);
  assert.equal(Sync.targetOmniStatus(view('Available', 'available'), undefined), null);
  // a row without an id (and not Offline) cannot be set
  assert.equal(Sync.targetOmniStatus(view('Available', 'available'),
    [{ omni_status_id: '', omni_kind: 'online', status: 'Available', kind: 'available', direction: 'both' }]), null);
});

test('targetOmniStatus: the first writing row wins; direction defaults to both', () => {
  const mapping = [
    { omni_status_id: TRAINING, omni_kind: 'busy', status: 'Lunch', kind: 'dnd', direction: 'from_omni' },
    { omni_status_id: BREAK, omni_kind: 'busy', status: 'Lunch', kind: 'dnd' },
    { omni_status_id: AVAILABLE, omni_kind: 'online', status: 'Lunch', kind: 'dnd', direction: 'to_omni' },
  ];
  assert.equal(Sync.targetOmniStatus(view('Lunch', 'dnd'), mapping), BREAK);
  assert.equal(Sync.targetRow(view('Lunch', 'dnd'), mapping), mapping[1]);
});

test('an unmapped In a Call leaves Omni as it is during the call', () => {
  const h = harness();
  h.send('mapping', MAPPING.filter((r) => r.status !== 'In a Call'));
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), [`set:${AVAILABLE}`]);
  h.send('presence', view('Available', 'available', RINGING));
  assert.deepEqual(h.take(), []);
  h.send('presence', view('Available', 'available', WRAPPING));
  assert.deepEqual(h.take(), [`set:${AFTER_CALL}`]);
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), [`set:${AVAILABLE}`]);
});

test('sameId: 15- and 18-character forms of an id are the same id', () => {
  assert.ok(Sync.sameId(AVAILABLE, short(AVAILABLE)));
  assert.ok(Sync.sameId(short(AVAILABLE), AVAILABLE));
  assert.ok(!Sync.sameId(AVAILABLE, BREAK));
  assert.ok(!Sync.sameId(null, AVAILABLE));
  assert.ok(!Sync.sameId(short(AVAILABLE).toLowerCase(), AVAILABLE), 'ids are case sensitive');
});

test('a call: Available -> In a Call (ring) -> Wrap Up -> Available', () => {
  const h = harness();
  h.send('omniCurrentStatus', { statusId: null }); // agent not logged in to Omni yet
  h.send('mapping', MAPPING);
  assert.deepEqual(h.take(), [], 'no presence yet: nothing to do');
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), [`set:${AVAILABLE}`]);
  h.send('presence', view('Available', 'available', RINGING));
  assert.deepEqual(h.take(), [`set:${ON_CALL}`]);
  h.send('presence', view('Available', 'available', RINGING)); // answered: same system status
  assert.deepEqual(h.take(), []);
  h.send('presence', view('Available', 'available', WRAPPING));
  assert.deepEqual(h.take(), [`set:${AFTER_CALL}`]);
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), [`set:${AVAILABLE}`]);
  assert.deepEqual(h.published(), [], 'our own changes are never published back');
  assert.equal(h.state.omni.statusId, short(AVAILABLE));
  assert.equal(h.state.expect, null);
  assert.equal(h.state.pending, null);
});

test('presence before mapping: the mapping triggers the write', () => {
  const h = harness();
  h.send('presence', view('Lunch', 'dnd'));
  assert.deepEqual(h.take(), []);
  h.send('mapping', MAPPING);
  assert.deepEqual(h.take(), [`set:${BREAK}`]);
  h.send('mapping', MAPPING); // the phone restarted and sent it again
  assert.deepEqual(h.take(), []);
});

test('an unmapped status leaves Omni alone', () => {
  const h = harness();
  h.send('mapping', MAPPING);
  h.send('presence', view('Available', 'available'));
  h.take();
  h.send('presence', view('Meeting', 'dnd'));
  assert.deepEqual(h.take(), []);
  h.send('presence', view('Training', 'dnd')); // mapped only from_omni
  assert.deepEqual(h.take(), []);
  // back to Available: Omni is still Available, nothing to set
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), []);
});

test('loop guard: a toolkit-originated change is not published; a manual one is', () => {
  const h = harness({ toolkit: false });
  h.send('mapping', MAPPING);
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), [`set:${AVAILABLE}`]);
  // the event that follows our setStatus (with the toolkit's reason) is ours
  h.send('omniStatusChanged', { statusId: short(AVAILABLE), statusApiName: 'Available', reason: 'OmniToolkitStatusChange' });
  h.send('omniSetResult', { ok: true, statusId: AVAILABLE, statusApiName: 'Available' });
  assert.deepEqual(h.take(), []);
  // the agent picks Break in the Omni widget
  h.send('omniStatusChanged', { statusId: short(BREAK), statusName: 'Break', statusApiName: 'Break', reason: 'OmniManualStatusChange' });
  assert.deepEqual(h.published(), [{ type: 'omni_status',
    payload: { statusId: short(BREAK), statusApiName: 'Break', reason: 'OmniManualStatusChange' } }]);
  h.take();
  // the phone keeps sending the same presence (queue toggles...): the agent's Omni choice stays
  h.send('presence', view('Available', 'available', { queues: [] }));
  assert.deepEqual(h.take(), []);
  // the phone follows Omni (direction both): Lunch maps to Break, which Omni already has
  h.send('presence', view('Lunch', 'dnd'));
  assert.deepEqual(h.take(), []);
  // our own publications echo back on the channel and are ignored
  for (const type of ['omni_status', 'omni_logout', 'omni_workload', 'omni_error', 'something_else']) {
    const result = Sync.decide(h.state, { type, payload: { statusId: short(AVAILABLE) } });
    assert.deepEqual(result.actions, [{ op: 'none' }], type);
  }
});

test('loop guard: our setStatus that logs the agent in is recognized by its status id', () => {
  const h = harness({ toolkit: false });
  h.send('omniCurrentStatus', { statusId: null });
  h.send('mapping', MAPPING);
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), [`set:${AVAILABLE}`]);
  h.send('omniLoginSuccess', { statusId: short(AVAILABLE) });
  h.send('omniStatusChanged', { statusId: short(AVAILABLE), statusApiName: 'Available', reason: 'OmniLoginStatusChange' });
  h.send('omniSetResult', { ok: true, statusId: AVAILABLE, statusApiName: 'Available' });
  assert.deepEqual(h.take(), []);
  // a later login by the agent themselves is published
  h.send('omniStatusChanged', { statusId: short(BREAK), statusApiName: 'Break', reason: 'OmniLoginStatusChange' });
  assert.deepEqual(h.take(), ['publish:omni_status']);
});

test('a lost echo does not swallow the agent\'s next change', () => {
  const h = harness({ toolkit: false });
  h.send('mapping', MAPPING);
  h.send('presence', view('Available', 'available'));
  h.send('omniSetResult', { ok: true, statusId: AVAILABLE }); // no omniStatusChanged ever comes
  h.take();
  h.send('omniStatusChanged', { statusId: short(BREAK), statusApiName: 'Break', reason: 'OmniManualStatusChange' });
  h.send('omniStatusChanged', { statusId: short(AVAILABLE), statusApiName: 'Available', reason: 'OmniManualStatusChange' });
  assert.deepEqual(h.take(), ['publish:omni_status', 'publish:omni_status']);
});

test('explicit logout in the Omni widget publishes omni_logout', () => {
  const h = harness();
  h.send('mapping', MAPPING);
  h.send('presence', view('Available', 'available'));
  h.take();
  h.send('omniLogout', {});
  assert.deepEqual(h.published(), [{ type: 'omni_logout', payload: { explicit: true } }]);
  assert.equal(h.state.omni.loggedIn, false);
});

test('Offline target means logout, and our logout is not published back', () => {
  const h = harness();
  h.send('mapping', MAPPING);
  h.send('presence', view('Available', 'available'));
  h.take();
  h.send('presence', view('Off Work', 'offwork'));
  assert.deepEqual(h.take(), ['logout']);
  assert.deepEqual(h.published(), []);
  h.send('presence', view('Off Work', 'offwork'));
  assert.deepEqual(h.take(), [], 'one logout');
  // next morning: Available logs the agent in again
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), [`set:${AVAILABLE}`]);
});

test('Offline target when Omni is known to be logged out: nothing to do', () => {
  const h = harness();
  h.send('omniCurrentStatus', { statusId: null });
  h.send('mapping', MAPPING);
  h.send('presence', view('Off Work', 'offwork'));
  assert.deepEqual(h.take(), []);
});

test('idempotence: the same target twice gives one setStatus', () => {
  const h = harness({ toolkit: false }); // the second message comes before Omni answers
  h.send('mapping', MAPPING);
  h.send('presence', view('Lunch', 'dnd'));
  h.send('presence', view('Lunch', 'dnd', { since: 1700000999 }));
  assert.deepEqual(h.take(), [`set:${BREAK}`]);
  // unmapped in between, then the same target while the first call is still in flight
  h.send('presence', view('Meeting', 'dnd'));
  h.send('presence', view('Lunch', 'dnd'));
  assert.deepEqual(h.take(), []);
});

test('no setStatus when Omni already has the target status', () => {
  const h = harness();
  h.send('omniCurrentStatus', { statusId: short(AVAILABLE), statusApiName: 'Available' });
  h.send('mapping', MAPPING);
  h.send('presence', view('Available', 'available'));
  assert.deepEqual(h.take(), []);
});

test('a failed setStatus is reported and retried on the next presence', () => {
  const h = harness({ toolkit: false });
  h.send('mapping', MAPPING);
  h.send('presence', view('Lunch', 'dnd'));
  assert.deepEqual(h.take(), [`set:${BREAK}`]);
  h.send('omniSetResult', { ok: false, statusId: BREAK, error: { message: 'status not assigned to your profile' } });
  assert.deepEqual(h.published(), [{ type: 'omni_error',
    payload: { op: 'setStatus', statusId: BREAK, error: 'status not assigned to your profile' } }]);
  h.take();
  h.send('presence', view('Lunch', 'dnd'));
  assert.deepEqual(h.take(), [`set:${BREAK}`]);
});

test('workload changes are published with numbers', () => {
  const h = harness();
  h.send('omniWorkloadChanged', { configuredCapacity: '5', previousWorkload: 1, newWorkload: 2 });
  assert.deepEqual(h.published(), [{ type: 'omni_workload', payload: { configuredCapacity: 5, newWorkload: 2 } }]);
});

test('decide is pure and tolerates bad input', () => {
  const start = Sync.initialState();
  const frozen = JSON.parse(JSON.stringify(start));
  const result = Sync.decide(start, { type: 'mapping', payload: MAPPING });
  assert.deepEqual(start, frozen, 'the given state is not modified');
  assert.notEqual(result.state, start);
  assert.deepEqual(Sync.decide(undefined, undefined).actions, [{ op: 'none' }]);
  assert.deepEqual(Sync.decide(undefined, { type: 'mapping', payload: 'not json' }).actions, [{ op: 'none' }]);
  assert.deepEqual(Sync.decide(undefined, { type: 'presence', payload: null }).actions, [{ op: 'none' }]);
  // a publisher that serialized its payload
  const s = Sync.decide(undefined, { type: 'mapping', payload: JSON.stringify(MAPPING) }).state;
  assert.deepEqual(Sync.decide(s, { type: 'presence', payload: JSON.stringify(view('Lunch', 'dnd')) }).actions,
    [{ op: 'setStatus', statusId: BREAK }]);
  // the state survives a JSON round trip (Aura attributes)
  const again = Sync.decide(JSON.parse(JSON.stringify(s)), { type: 'presence', payload: view('Lunch', 'dnd') });
  assert.deepEqual(again.actions, [{ op: 'setStatus', statusId: BREAK }]);
});
