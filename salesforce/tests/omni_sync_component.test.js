// Tests of the SwitchboardOmniSync Aura bundle's glue (controller + helper) against a fake Aura runtime,
// fake Omni toolkit and fake message channel: events reach decide(), actions reach the toolkit, toolkit
// errors are logged and never thrown. The decisions themselves are tested in omni_sync_logic.test.js.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const DEFAULT = path.join(__dirname, '..', 'force-app', 'main', 'default');
const BUNDLE = path.join(DEFAULT, 'aura', 'SwitchboardOmniSync');
const Sync = require(path.join(DEFAULT, 'staticresources', 'SwitchboardOmniSyncLogic.js'));

// Aura controller / helper files are one object literal in parentheses
// eslint-disable-next-line no-eval
const load = (name) => (0, eval)(fs.readFileSync(path.join(BUNDLE, name), 'utf8'));

const AVAILABLE = '0N5Hp0000000001AAA';
const BREAK = '0N5Hp0000000004AAA';
const MAPPING = [
  { omni_status_id: AVAILABLE, omni_developer_name: 'Available', omni_kind: 'online', status: 'Available', kind: 'available', direction: 'both' },
  { omni_status_id: BREAK, omni_developer_name: 'Break', omni_kind: 'busy', status: 'Lunch', kind: 'dnd', direction: 'both' },
];
const view = (status, kind) => ({ agent: 'alice1', status, kind, status_id: 1, system: null, wrapup: null });
const params = (p) => ({ getParam: (name) => p[name] });
const flush = () => new Promise((resolve) => setImmediate(resolve));

function fakeComponent(toolkitOverrides) {
  const attrs = { 'v.inbox': [], 'v.logicReady': false, 'v.syncState': null, 'v.statusText': '' };
  const calls = [];
  const published = [];
  const toolkit = Object.assign({
    getServicePresenceStatusId() {
      calls.push(['getServicePresenceStatusId']);
      return Promise.reject(new Error('not logged in to Omni-Channel'));
    },
    setServicePresenceStatus(arg) {
      calls.push(['setServicePresenceStatus', arg.statusId]);
      return Promise.resolve({ statusId: arg.statusId.slice(0, 15), statusName: 'X', statusApiName: 'X' });
    },
    logout() {
      calls.push(['logout']);
      return Promise.resolve(true);
    },
  }, toolkitOverrides || {});
  const channel = { publish: (message) => published.push(JSON.parse(JSON.stringify(message))) };
  const cmp = {
    get: (key) => attrs[key],
    set: (key, value) => { attrs[key] = value; },
    find: (id) => ({ omniToolkit: toolkit, presenceChannel: channel })[id],
    isValid: () => true,
  };
  return { cmp, attrs, calls, published };
}

function setup(toolkitOverrides) {
  const errors = [];
  global.$A = { getCallback: (fn) => fn };
  global.window = { SwitchboardOmniSync: Sync };
  const originalError = console.error;
  console.error = (...args) => errors.push(args.map(String).join(' '));
  const controller = load('SwitchboardOmniSyncController.js');
  const helper = load('SwitchboardOmniSyncHelper.js');
  const fake = fakeComponent(toolkitOverrides);
  const c = (action, arg) => controller[action](fake.cmp, arg, helper);
  const restore = () => { console.error = originalError; };
  return Object.assign(fake, { c, errors, restore });
}

test('the bundle files are Aura object literals with the handlers the markup names', () => {
  const markup = fs.readFileSync(path.join(BUNDLE, 'SwitchboardOmniSync.cmp'), 'utf8');
  const controller = load('SwitchboardOmniSyncController.js');
  const named = Array.from(markup.matchAll(/\{!\s*c\.(\w+)\s*\}/g), (m) => m[1]);
  assert.ok(named.length >= 6);
  for (const name of named) assert.equal(typeof controller[name], 'function', name);
  for (const event of ['omniChannelStatusChanged', 'omniChannelLogout', 'omniChannelLoginSuccess',
    'omniChannelWorkloadChanged']) {
    assert.match(markup, new RegExp(`<aura:handler event="lightning:${event}"`));
  }
  assert.match(markup, /<lightning:omniToolkitAPI aura:id="omniToolkit"\s*\/>/);
  assert.match(markup, /type="SwitchboardPresence__c"/);
  assert.match(markup, /scope="APPLICATION"/);
  assert.match(markup, /\$Resource\.SwitchboardOmniSyncLogic/);
  assert.match(markup, /implements="lightning:utilityItem,flexipage:availableForAllPageTypes"/);
});

test('inputs before the script loads are queued, then replayed; our echo is not published', async () => {
  const t = setup();
  try {
    t.c('onMessage', params({ type: 'mapping', payload: MAPPING }));
    t.c('onMessage', params({ type: 'presence', payload: view('Available', 'available') }));
    assert.equal(t.attrs['v.inbox'].length, 2);
    assert.deepEqual(t.calls, []);
    t.c('onScriptsLoaded', {});
    assert.deepEqual(t.attrs['v.inbox'], []);
    assert.deepEqual(t.calls, [['setServicePresenceStatus', AVAILABLE], ['getServicePresenceStatusId']]);
    await flush();
    t.c('onStatusChanged', params({ statusId: AVAILABLE.slice(0, 15), statusApiName: 'Available',
      reason: 'OmniToolkitStatusChange' }));
    assert.deepEqual(t.published, []);
    // the agent changes Omni by hand
    t.c('onStatusChanged', params({ statusId: BREAK.slice(0, 15), statusApiName: 'Break',
      reason: 'OmniManualStatusChange' }));
    t.c('onLogout', params({}));
    t.c('onWorkloadChanged', params({ configuredCapacity: 5, previousWorkload: 0, newWorkload: 1 }));
    assert.deepEqual(t.published, [
      { type: 'omni_status', payload: { statusId: BREAK.slice(0, 15), statusApiName: 'Break', reason: 'OmniManualStatusChange' } },
      { type: 'omni_logout', payload: { explicit: true } },
      { type: 'omni_workload', payload: { configuredCapacity: 5, newWorkload: 1 } },
    ]);
    // our own publications come back through onMessage and change nothing
    const before = JSON.stringify(t.attrs['v.syncState']);
    for (const message of t.published) t.c('onMessage', params(message));
    assert.equal(t.published.length, 3);
    assert.deepEqual(JSON.parse(JSON.stringify(t.attrs['v.syncState'])), JSON.parse(before));
  } finally {
    t.restore();
  }
});

test('toolkit errors are logged, published as omni_error, and never thrown', async () => {
  const t = setup({
    setServicePresenceStatus(arg) {
      if (arg.statusId === BREAK) throw new Error('synchronous failure');
      return Promise.reject(new Error('status not assigned to your profile'));
    },
    logout() { return Promise.reject(new Error('no session')); },
  });
  try {
    t.c('onScriptsLoaded', {});
    t.c('onMessage', params({ type: 'mapping', payload: MAPPING.concat([
      { omni_status_id: null, omni_kind: 'offline', status: 'Off Work', kind: 'offwork', direction: 'both' }]) }));
    t.c('onMessage', params({ type: 'presence', payload: view('Available', 'available') }));
    t.c('onMessage', params({ type: 'presence', payload: view('Lunch', 'dnd') }));
    await flush();
    t.c('onMessage', params({ type: 'presence', payload: view('Off Work', 'offwork') }));
    await flush();
    const errors = t.published.filter((m) => m.type === 'omni_error').map((m) => m.payload);
    assert.deepEqual(errors.map((e) => [e.op, e.statusId]).sort(),
      [['logout', null], ['setStatus', AVAILABLE], ['setStatus', BREAK]].sort());
    assert.ok(t.errors.some((e) => e.includes('synchronous failure')));
    assert.ok(t.errors.some((e) => e.includes('status not assigned')));
    assert.ok(t.errors.some((e) => e.includes('getServicePresenceStatusId')));
  } finally {
    t.restore();
  }
});

test('a missing static resource is logged, not thrown', () => {
  const t = setup();
  try {
    global.window = {};
    t.c('onScriptsLoaded', {});
    t.c('onMessage', params({ type: 'presence', payload: view('Available', 'available') }));
    assert.ok(t.errors.some((e) => e.includes('did not load')));
    assert.deepEqual(t.calls, []);
  } finally {
    t.restore();
  }
});
