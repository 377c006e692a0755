// Mini dashboard of the agent's own queues: serving, active, queue length, longest wait, today's calls.
// The orchestrator's `queue_stats` event (namespace /phone) is the truth; it is sent when the figures
// change, so the longest wait ticks here from `max_wait_seconds` and the time it was received.
// Every label is set with textContent only.

const $ = (id) => document.getElementById(id);
const panel = $('dashboard');
let rows = [];
let receivedAt = 0; // performance.now() when `rows` arrived

export function formatWait(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds || 0));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

// Each figure carries its column's name: at narrow widths the rows stack and show it (app.css).
const LABELS = { 'dash-serving': 'Serving', 'dash-active': 'Active', 'dash-waiting': 'In queue',
  'dash-wait': 'Max wait', 'dash-today': 'Today' };

function cell(text, className = '') {
  const td = document.createElement('td');
  td.textContent = String(text);
  if (className) td.className = className;
  if (LABELS[className]) td.dataset.label = LABELS[className];
  return td;
}

function waitNow(row) {
  if (!row.waiting) return 0;
  return (row.max_wait_seconds || 0) + (performance.now() - receivedAt) / 1000;
}

function render() {
  const body = $('dashboard-rows');
  body.replaceChildren();
  $('dashboard-empty').hidden = rows.length > 0;
  $('dashboard-table').hidden = rows.length === 0;
  for (const r of rows) {
    const tr = document.createElement('tr');
    tr.dataset.queue = String(r.queue || '');
    tr.dataset.waiting = String(r.waiting || 0);
    const label = cell(r.label || r.queue || '', 'dash-label');
    label.title = r.label || r.queue || '';
    const serving = cell(r.serving ?? 0, 'dash-serving');
    serving.title = `${r.serving ?? 0} serving, ${r.free ?? 0} free, ${r.members ?? 0} members`;
    const wait = cell(formatWait(waitNow(r)), 'dash-wait');
    const today = cell(`${r.answered_today ?? 0}/${r.abandoned_today ?? 0}`, 'dash-today');
    today.title = `${r.answered_today ?? 0} answered, ${r.abandoned_today ?? 0} abandoned today`;
    tr.append(label, serving, cell(r.active ?? 0, 'dash-active'), cell(r.waiting ?? 0, 'dash-waiting'), wait, today);
    body.append(tr);
  }
}

function tick() {
  const cells = document.querySelectorAll('#dashboard-rows td.dash-wait');
  rows.forEach((r, i) => {
    if (cells[i]) cells[i].textContent = formatWait(waitNow(r));
  });
}

function update(data) {
  rows = Array.isArray(data && data.queues) ? data.queues : [];
  receivedAt = performance.now();
  $('dashboard-status').textContent = '';
  render();
}

async function askForStats() {
  try {
    await fetch('/api/dashboard/refresh', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': panel.dataset.csrf, 'Content-Type': 'application/json' }, body: '{}',
    });
  } catch (_err) {
    $('dashboard-status').textContent = 'offline';
  }
}

function start() {
  if (!panel) return;
  $('dashboard-status').textContent = 'loading…';
  setInterval(tick, 1000);
  window.switchboardDashboard = { rows: () => rows };
  if (typeof window.io !== 'function') return;
  const socket = window.io('/phone', { path: '/socket.io' });
  socket.on('queue_stats', update);
  socket.on('connect', askForStats); // first figures, and catch-up after a reconnect
  socket.on('disconnect', () => { $('dashboard-status').textContent = 'offline'; });
}

start();
