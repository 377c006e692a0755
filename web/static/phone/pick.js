// Pick mode (docs/routing.md, "Pick mode"): the waiting calls of the agent's queues, each with a Pick
// button. The orchestrator's `waiting_calls` event (namespace /phone) is the truth and comes when the list
// changes; the waiting times tick here from `wait_seconds` and the time the list arrived. A pick's answer
// shows at once: the phone rings (the call is ours), or who was faster. Callers' names and numbers come
// from outside: they are set with textContent only.

import { formatWait } from './dashboard.js';

const $ = (id) => document.getElementById(id);
const panel = $('pick');
let pickMode = false;
let calls = [];
let receivedAt = 0; // performance.now() when `calls` arrived
let picking = ''; // the call id of a pick on its way
let lostCall = ''; // the call the shown "Already picked by …" is about: cleared when it waits again

function waitNow(call) {
  return (call.wait_seconds || 0) + (performance.now() - receivedAt) / 1000;
}

function span(className, text) {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = String(text || '');
  return el;
}

function say(message, state) {
  const result = $('pick-result');
  result.textContent = message;
  result.dataset.state = state;
  result.hidden = !message;
}

function item(call) {
  const li = document.createElement('li');
  li.className = 'pick-item';
  li.dataset.callId = String(call.call_id || '');
  const who = document.createElement('div');
  who.className = 'pick-who';
  who.append(span('pick-number', call.caller_display || call.caller_number || 'Unknown number'));
  if (call.caller_name) who.append(span('pick-name', call.caller_name));
  who.append(span('pick-queue', call.queue_label || call.queue));
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'btn small pick-button';
  button.textContent = picking === call.call_id ? 'Picking…' : 'Pick';
  button.disabled = Boolean(picking) || Boolean(call.offered);
  button.title = call.offered ? 'Being offered to an agent right now' : 'Take this call: your phone rings';
  button.addEventListener('click', () => pick(call));
  li.append(who, span('pick-wait', formatWait(waitNow(call))), button);
  return li;
}

function render() {
  panel.hidden = !pickMode;
  $('pick-list').replaceChildren(...calls.map(item));
  $('pick-empty').hidden = calls.length > 0;
  $('pick-count').textContent = calls.length ? `(${calls.length})` : '';
}

function tick() {
  const cells = document.querySelectorAll('#pick-list .pick-wait');
  calls.forEach((call, i) => {
    if (cells[i]) cells[i].textContent = formatWait(waitNow(call));
  });
}

function update(data) {
  pickMode = Boolean(data && data.pick_mode);
  calls = pickMode && Array.isArray(data.calls) ? data.calls : [];
  receivedAt = performance.now();
  if (!pickMode || (lostCall && calls.some((c) => c.call_id === lostCall))) { // back in the list: pickable again
    say('', '');
    lostCall = '';
  }
  render();
}

async function pick(call) {
  if (picking) return;
  picking = call.call_id;
  lostCall = '';
  say('Picking…', 'pending');
  render();
  try {
    const response = await fetch(`/api/calls/${encodeURIComponent(call.call_id)}/pick`, {
      method: 'POST', credentials: 'same-origin', body: '{}',
      headers: { 'X-CSRF-Token': panel.dataset.csrf, 'Content-Type': 'application/json' },
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok && answer.ok) {
      say(`You picked ${call.caller_display || call.caller_number || 'the call'}: your phone rings.`, 'won');
    } else {
      say(answer.message || 'The call could not be picked.', 'lost');
    }
    if (['already_picked', 'not_waiting'].includes(answer.error)) { // gone from the list until it waits again
      lostCall = call.call_id;
      calls = calls.filter((c) => c.call_id !== call.call_id);
    }
  } catch (_err) {
    say('The call server cannot be reached.', 'lost');
  }
  picking = '';
  render();
}

async function askForList() {
  try {
    await fetch('/api/pick/refresh', {
      method: 'POST', credentials: 'same-origin', body: '{}',
      headers: { 'X-CSRF-Token': panel.dataset.csrf, 'Content-Type': 'application/json' },
    });
  } catch (_err) {
    // the next change brings the list
  }
}

function start() {
  if (!panel) return;
  setInterval(tick, 1000);
  window.switchboardPick = { calls: () => calls, pickMode: () => pickMode };
  if (typeof window.io !== 'function') return;
  const socket = window.io('/phone', { path: '/socket.io' });
  socket.on('waiting_calls', update);
  socket.on('connect', askForList); // the list now, and after a reconnect
}

start();
