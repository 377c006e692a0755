// Contact directory of the web phone: search agents and Salesforce contacts, click or Enter to call, and
// name the colleague a direct call comes from (findColleague). Calls go through the dialler
// (window.switchboardPhone.dial -> PhoneCore.dial with the chosen display number). Names and numbers
// are untrusted text: they are only ever set with textContent.

const $ = (id) => document.getElementById(id);
const panel = $('directory');
const DEBOUNCE_MS = 250;
const MIN_CHARS = 2;
const PRESENCE_KIND = new Set(['available', 'busy', 'dnd', 'offwork']);
let timer = null;
let seq = 0;
let results = [];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function status(text) {
  $('directory-status').textContent = text;
}

function call(index) {
  const r = results[index];
  const phone = window.switchboardPhone;
  if (!r || !r.number || !phone) return false;
  return phone.dial(r.number);
}

function render(list, salesforce) {
  results = list;
  const ul = $('directory-results');
  ul.replaceChildren();
  list.forEach((r, i) => {
    const li = el('li');
    const button = el('button', 'directory-item');
    button.type = 'button';
    button.id = `directory-item-${i}`;
    button.dataset.index = String(i);
    button.dataset.type = r.type;
    button.setAttribute('role', 'option');
    button.title = `Call ${r.name} (${r.number})`;
    const who = el('span', 'directory-who');
    who.append(el('span', 'directory-name', r.name || r.number), el('span', 'directory-number', r.number));
    const meta = el('span', 'directory-meta');
    meta.append(el('span', 'directory-type', r.type === 'agent' ? 'Agent' : 'Contact'));
    if (r.presence && r.presence.status) {
      const p = el('span', 'directory-presence', r.presence.status);
      p.dataset.kind = PRESENCE_KIND.has(r.presence.kind) ? r.presence.kind : '';
      meta.append(p);
    }
    button.append(who, meta);
    li.append(button);
    ul.append(li);
  });
  const note = salesforce === 'unavailable' ? ' (Salesforce unavailable)' : '';
  status(list.length ? `${list.length} found${note}` : `No matches${note}`);
}

async function search(text) {
  const mine = ++seq;
  status('Searching…');
  try {
    const response = await fetch(`/api/directory?q=${encodeURIComponent(text)}`,
      { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const body = await response.json().catch(() => ({}));
    if (mine !== seq) return; // a newer search is under way
    if (!response.ok) {
      render([], '');
      status(body.message || 'Search failed.');
      return;
    }
    render(Array.isArray(body.results) ? body.results : [], body.salesforce);
  } catch (_err) {
    if (mine === seq) status('Search failed.');
  }
}

function onInput() {
  clearTimeout(timer);
  const text = $('directory-search').value.trim();
  if (text.length < MIN_CHARS) {
    seq++;
    results = [];
    $('directory-results').replaceChildren();
    status(text ? 'Type at least two characters.' : '');
    return;
  }
  timer = setTimeout(() => search(text), DEBOUNCE_MS);
}

/** The colleague (an agent in the directory) whose SIP user name is `number`, or null: who a direct call is from. */
export async function findColleague(number) {
  const text = String(number || '').trim();
  if (text.length < MIN_CHARS || !/^[A-Za-z][A-Za-z0-9._-]*$/.test(text)) return null; // agents dial by name
  try {
    const response = await fetch(`/api/directory?q=${encodeURIComponent(text)}`,
      { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    const body = await response.json();
    const rows = Array.isArray(body.results) ? body.results : [];
    return rows.find((r) => r.type === 'agent' && r.sip_username === text) || null;
  } catch (_err) {
    return null;
  }
}

function focusItem(index) {
  const item = $(`directory-item-${Math.max(0, Math.min(results.length - 1, index))}`);
  if (item) item.focus();
}

function wire() {
  const input = $('directory-search');
  input.addEventListener('input', onInput);
  input.addEventListener('keydown', (e) => {
    // preventDefault keeps the dialler's page-wide Enter out of it (see dialer.js keydown).
    if (e.key === 'Enter') {
      e.preventDefault();
      call(0);
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      focusItem(0);
    }
  });
  const ul = $('directory-results');
  ul.addEventListener('click', (e) => {
    const button = e.target.closest('button.directory-item');
    if (button) call(Number(button.dataset.index));
  });
  ul.addEventListener('keydown', (e) => {
    const button = e.target.closest('button.directory-item');
    if (!button) return;
    const i = Number(button.dataset.index);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      focusItem(i + (e.key === 'ArrowDown' ? 1 : -1));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      call(i);
    }
  });
}

if (panel) {
  wire();
  window.switchboardDirectory = { results: () => results, call };
}
