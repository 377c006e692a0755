// Presence panel of the web phone: status, pool calls, per-queue switches, upcoming availabilities and
// the wrap-up dialog. The server's `presence` event (namespace /phone) is the truth; every label is
// set with textContent only.

const $ = (id) => document.getElementById(id);
const panel = $('presence');
const csrf = panel ? panel.dataset.csrf : '';
let state = null;
let statuses = [];
let phoneState = 'idle'; // the page's own call: idle | ringing | dialing | in_call | ended

// What a queue that is not paused is doing for the agent right now (the phone's call, not a guess).
const ACTIVE_QUEUE_TEXT = { ringing: 'ringing', dialing: 'on a call', in_call: 'on a call' };

function el(tag, props = {}, text = '') {
  const node = document.createElement(tag);
  Object.assign(node, props);
  if (text) node.textContent = text;
  return node;
}

function remaining(until) {
  if (!until) return '';
  const s = Math.max(0, Math.round(until - Date.now() / 1000));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min left` : m > 0 ? `${m} min left` : `${s} s left`;
}

function localTime(epoch) {
  return new Date(epoch * 1000).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

async function api(method, path, body) {
  const options = { method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const error = $('presence-error');
  error.hidden = true; // cleared before asking: a plugin's notice (presence_notice) may beat the response
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    error.textContent = data.message || 'The change was not accepted.';
    error.hidden = false;
  }
  return { ok: response.ok, data };
}

function statusLabel(s) {
  return s.duration_minutes && !/min\)/.test(s.name) ? `${s.name} (${s.duration_minutes} min)` : s.name;
}

function renderSelect() {
  const select = $('presence-select');
  const sched = $('schedule-status');
  select.replaceChildren();
  sched.replaceChildren();
  for (const s of statuses) {
    select.append(el('option', { value: String(s.id) }, statusLabel(s)));
    sched.append(el('option', { value: String(s.id) }, statusLabel(s)));
  }
  select.disabled = statuses.length === 0;
}

function renderSummary() {
  const summary = $('presence-summary');
  // a system status ("In a Call") shows over the agent's own, which holds again when it ends
  const system = state.system;
  const parts = [system ? system.name : state.wrapup ? 'Wrap Up' : state.status];
  const left = system ? '' : remaining(state.until);
  if (left) parts.push(left);
  if (system) parts.push(`then ${state.status}`);
  summary.textContent = parts.join(' · ');
  summary.dataset.kind = system ? system.kind : state.wrapup ? 'wrapup' : state.kind;
}

function renderQueues() {
  const list = $('presence-queues');
  list.replaceChildren();
  for (const q of state.queues) {
    const id = `queue-toggle-${q.name}`;
    const box = el('input', { type: 'checkbox', id, checked: q.active });
    box.addEventListener('change', () => api('POST', `/api/presence/queues/${encodeURIComponent(q.name)}`,
      { active: box.checked }));
    const label = el('label', { htmlFor: id, className: 'presence-switch' });
    label.append(box, el('span', {}, q.label));
    const reason = el('span', { className: 'queue-reason' },
      q.paused ? `paused: ${q.reason}` : ACTIVE_QUEUE_TEXT[phoneState] || 'taking calls');
    reason.dataset.paused = String(q.paused);
    reason.dataset.phone = phoneState;
    list.append(Object.assign(el('li'), { className: 'presence-queue' }));
    list.lastChild.append(label, reason);
  }
}

function renderSchedules() {
  const list = $('schedule-list');
  list.replaceChildren();
  const names = new Map(statuses.map((s) => [s.id, s.name]));
  $('schedule-count').textContent = state.schedules.length ? `(${state.schedules.length})` : '';
  if (!state.schedules.length) list.append(el('li', { className: 'muted' }, 'No upcoming availabilities'));
  for (const s of state.schedules) {
    const item = el('li', { className: 'schedule-item' });
    const when = s.ends_at ? `${localTime(s.starts_at)} – ${localTime(s.ends_at)}` : `from ${localTime(s.starts_at)}`;
    const remove = el('button', { type: 'button', className: 'link-button', id: `schedule-remove-${s.id}` }, 'Remove');
    remove.setAttribute('aria-label', `Remove ${names.get(s.status_id) || 'status'} ${when}`);
    remove.addEventListener('click', () => api('DELETE', `/api/presence/schedule/${s.id}`));
    item.append(el('span', {}, `${names.get(s.status_id) || '?'}, ${when}`), remove);
    list.append(item);
  }
}

function renderWrapup() {
  const dialog = $('wrapup-dialog');
  const w = state.wrapup;
  if (!w || !w.codes.length) {
    if (dialog.open) dialog.close();
    return;
  }
  if (dialog.dataset.callId !== w.call_id) {
    dialog.dataset.callId = w.call_id;
    const codes = $('wrapup-codes');
    codes.replaceChildren();
    w.codes.forEach((code, i) => {
      const button = el('button', { type: 'button', className: 'btn wrapup-code', id: `wrapup-code-${i}` }, code);
      button.addEventListener('click', async () => {
        const { ok } = await api('POST', `/api/calls/${encodeURIComponent(w.call_id)}/wrapup`, { code });
        if (ok) dialog.close();
      });
      codes.append(button);
    });
  }
  $('wrapup-info').textContent = w.required ? 'Pick a wrap-up code for the call you just finished.'
    : `Pick a wrap-up code. ${remaining(w.until)}`;
  if (!dialog.open) {
    dialog.showModal();
    const first = $('wrapup-code-0');
    if (first) first.focus();
  }
}

function render(data) {
  state = data;
  if (!panel || !state) return;
  window.dispatchEvent(new CustomEvent('switchboard:presence', { detail: state })); // opencti.js: Omni sync
  $('presence-select').value = state.status_id == null ? '' : String(state.status_id);
  $('pool-calls-toggle').checked = state.receive_pool_calls;
  panel.dataset.kind = state.kind;
  renderSummary();
  renderQueues();
  renderSchedules();
  renderWrapup();
}

/** Follow the page's call (window.switchboardPhone.core, set by the shell) so the queue lines tell the truth. */
function followCall(tries = 200) {
  const phone = window.switchboardPhone;
  if (!phone || !phone.core) {
    if (tries > 0) setTimeout(() => followCall(tries - 1), 25);
    return;
  }
  const update = ({ call }) => {
    phoneState = call ? call.state : 'idle';
    if (state) renderQueues();
  };
  for (const type of ['incoming', 'outgoing', 'accepted', 'ended']) phone.core.on(type, update);
}

function toEpoch(value) {
  return value ? new Date(value).getTime() / 1000 : null;
}

function wire() {
  $('presence-select').addEventListener('change', (e) => api('POST', '/api/presence',
    { status_id: Number(e.target.value) }));
  $('pool-calls-toggle').addEventListener('change', (e) => api('POST', '/api/presence/pool-calls',
    { on: e.target.checked }));
  $('schedule-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const { ok } = await api('POST', '/api/presence/schedule', {
      status_id: Number($('schedule-status').value),
      starts_at: toEpoch($('schedule-start').value),
      ends_at: toEpoch($('schedule-end').value),
    });
    if (ok) e.target.reset();
  });
  $('wrapup-dialog').addEventListener('cancel', (e) => {
    if (state && state.wrapup && state.wrapup.required) e.preventDefault(); // a code is required
  });
  setInterval(() => {
    if (state) {
      renderSummary();
      if (state.wrapup && !state.wrapup.required) renderWrapup();
    }
  }, 1000);
}

async function start() {
  if (!panel) return;
  wire();
  followCall();
  const response = await fetch('/api/presence', { credentials: 'same-origin' });
  if (response.ok) {
    const data = await response.json();
    statuses = data.statuses || [];
    renderSelect();
    render(data);
  }
  if (typeof window.io === 'function') {
    const socket = window.io('/phone', { path: '/socket.io' });
    socket.on('presence', (data) => render(data));
    socket.on('presence_notice', (data) => { // a plugin refused or replaced the status chosen: say why
      const notice = $('presence-error');
      notice.textContent = data.reason || (data.refused ? 'That status was refused.' : '');
      notice.hidden = !notice.textContent;
    });
    socket.on('connect', async () => { // catch up on changes missed while disconnected
      const again = await fetch('/api/presence', { credentials: 'same-origin' });
      if (again.ok) render(await again.json());
    });
  }
  window.switchboardPresence = { state: () => state };
}

start();
