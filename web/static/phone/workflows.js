// Phone workflows (seed section 2): caller identification on ringing, the workflow dialog and the
// Salesforce screen pop. Listens to the phone core's events (see core.js); never edits the call card.
// Every Salesforce value is untrusted text: it is only ever set with textContent.

import { openRecord } from './screenpop.js';

const $ = (id) => document.getElementById(id);
const root = $('workflow');
const els = {
  identity: $('wf-identity'), idKind: $('wf-id-kind'), idName: $('wf-id-name'), dialog: $('wf-dialog'),
  title: $('wf-title'), close: $('wf-close'), message: $('wf-message'), body: $('wf-body'),
};
const OBJECT_LABEL = { Contact: 'Contact', Account: 'Account', Lead: 'Lead', Case: 'Case' };

const state = { call: null, ident: null, callId: null, declined: false };
const api = { popped: [], state, ready: false };
window.switchboardWorkflows = api;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

async function request(method, path, data) {
  const options = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (data !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.headers['X-CSRF-Token'] = root.dataset.csrf || '';
    options.body = JSON.stringify(data);
  }
  const response = await fetch(`/api/calls/${encodeURIComponent(state.callId)}${path}`, options);
  let body = null;
  try { body = await response.json(); } catch (_e) { body = null; }
  if (!response.ok) {
    const err = new Error((body && body.message) || response.statusText);
    err.status = response.status;
    throw err;
  }
  return body;
}

function say(text) {
  els.message.textContent = text || '';
  els.message.hidden = !text;
}

// --- screen pop ----------------------------------------------------------------------------------
function objectOf(id) {
  const prefix = String(id || '').slice(0, 3);
  return { '001': 'Account', '003': 'Contact', '00Q': 'Lead', 500: 'Case' }[prefix] || 'Contact';
}

export function screenPop(recordId, objectName) {
  if (!recordId) return;
  const object = objectName || objectOf(recordId);
  api.popped.push({ recordId, object });
  const opencti = window.sforce && window.sforce.opencti;
  if (opencti && opencti.screenPop) {
    opencti.screenPop({ type: opencti.SCREENPOP_TYPE.SOBJECT, params: { recordId } });
    return;
  }
  const base = state.ident && state.ident.lightning_url;
  if (base) openRecord(`${base}/lightning/r/${object}/${encodeURIComponent(recordId)}/view`); // one reused tab
}

// --- identity -------------------------------------------------------------------------------------
function showIdentity(ident) {
  const sfm = ident.salesforce || { kind: 'none', records: [] };
  let kind = 'Not identified';
  let name = '';
  if (ident.directory) {
    kind = 'Colleague';
    name = ident.directory.name;
  } else if (sfm.kind === 'single') {
    kind = sfm.records[0].type || 'Salesforce';
    name = sfm.records[0].Name || '';
  } else if (sfm.kind === 'multiple') {
    kind = `${sfm.records.length} matches`;
  } else if (sfm.kind === 'error') {
    kind = 'Salesforce unavailable';
  }
  els.idKind.textContent = kind;
  els.idName.textContent = name;
  els.identity.dataset.kind = ident.directory ? 'directory' : sfm.kind;
  els.identity.hidden = Boolean(ident.directory); // a colleague is named on the call card (standalone.js)
  root.hidden = false;
}

async function loadIdentity(callId) {
  // One request: the server waits briefly for the orchestrator's offer record (204: nothing to show).
  try {
    const response = await fetch(`/api/calls/${encodeURIComponent(callId)}/identity?wait=1`,
      { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (response.status !== 200 || state.callId !== callId) return null;
    const ident = await response.json();
    api.identityShownAt = performance.timeOrigin + performance.now();
    return ident;
  } catch (_err) {
    return null;
  }
}

// --- dialog building blocks -------------------------------------------------------------------------
function openDialog(title) {
  els.title.textContent = title;
  els.body.replaceChildren();
  say('');
  els.dialog.hidden = false;
  root.hidden = false;
}

function closeDialog() {
  els.dialog.hidden = true;
  els.body.replaceChildren();
}

function dialogTitle() {
  const ident = state.ident;
  return `Call Disposition - ${ident.caller_number || 'unknown'} --- ${ident.queue_label}`;
}

function button(label, onclick, cls = 'btn small') {
  return el('button', { type: 'button', class: cls, text: label, onclick });
}

/** The caller's matching records with Choose (several matches), or "not identified". */
async function appendMatches(sfm, onChosen) {
  if (sfm.kind === 'multiple') {
    const m = await request('GET', '/matches');
    els.body.append(el('p', { class: 'wf-lead', text: "The following records found based on caller's phone number. Click 'Choose' to select one" }),
      recordTable(m.rows, extraColumnsOf(m.columns, m.rows), onChosen));
  } else {
    els.body.append(el('p', { class: 'wf-lead', text: 'The caller was not identified.' }));
  }
}

function guard(fn) {
  return async (...args) => {
    say('');
    try { await fn(...args); } catch (err) { say(err.message || 'Failed'); }
  };
}

function recordTable(rows, extraCols, onChoose, opts = {}) {
  const heads = ['Type', 'Full Name', 'Account Name', ...extraCols, ''];
  const table = el('table', { class: 'wf-table' });
  table.append(el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { text: h })))));
  const tbody = el('tbody');
  for (const r of rows) {
    const tr = el('tr', { 'data-id': r.Id, 'data-type': r.type });
    tr.append(el('td', { text: r.type }), el('td', { text: r.Name }),
      el('td', { text: r.type === 'Contact' ? r.AccountName : r.type === 'Lead' ? (r.extra.Company || '') : '' }));
    for (const c of extraCols) tr.append(el('td', { text: r.extra && r.extra[c] != null ? String(r.extra[c]) : '' }));
    const actions = el('td', { class: 'wf-actions' }, button('Choose', guard(() => onChoose(r)), 'btn small choose'));
    if (opts.updatePhone) actions.append(button('Update phone', guard(() => updatePhone(r)), 'btn small secondary'));
    tr.append(actions);
    tbody.append(tr);
  }
  table.append(tbody);
  return el('div', { class: 'wf-scroll' }, table);
}

function extraColumnsOf(columns, rows) {
  const types = new Set(rows.map((r) => r.type));
  const out = [];
  for (const t of types) for (const c of columns[t] || []) if (!out.includes(c) && c !== 'Company') out.push(c);
  return out;
}

async function updatePhone(r) {
  await request('POST', '/phone', { type: r.type, id: r.Id });
  say(`Phone of ${r.Name} set to ${state.ident.caller_number}.`);
}

function searchBox(onResults, placeholder = 'Search contact / account by name') {
  const input = el('input', { type: 'search', class: 'wf-input', id: 'wf-search', placeholder, maxlength: '100' });
  const results = el('div', { class: 'wf-results', id: 'wf-search-results' });
  const form = el('form', { class: 'wf-search', onsubmit: guard(async (e) => {
    e.preventDefault();
    await onResults(input.value, results);
  }) }, input, button('Search', null, 'btn small'));
  form.querySelector('button').type = 'submit';
  return el('div', { class: 'wf-section' }, el('h3', { text: 'Search and choose other customer record' }), form,
    results);
}

function secondObject() {
  return state.ident.workflow === 'contact_lead' ? 'Lead' : 'Account';
}

async function chooseRecord(r) {
  await request('POST', '/choose', { id: r.Id, type: r.type, account_id: r.type === 'Contact' ? r.AccountId : '' });
  api.chosen = r.Id;
}

// --- Contact&Account and Contact&Lead ----------------------------------------------------------------
function newRecordForms() {
  const other = secondObject();
  const wrap = el('div', { class: 'wf-section wf-new' });
  const first = el('input', { class: 'wf-input', id: 'wf-first', placeholder: 'First name', maxlength: '40' });
  const last = el('input', { class: 'wf-input', id: 'wf-last', placeholder: 'Last name', maxlength: '80' });
  const org = el('input', { class: 'wf-input', id: 'wf-org', maxlength: '255',
    placeholder: other === 'Lead' ? 'Company' : 'Account name' });
  const create = (type) => guard(async () => {
    const data = { type, first_name: first.value, last_name: last.value };
    if (type === 'Account') data.name = org.value;
    if (type === 'Lead') data.company = org.value;
    const made = await request('POST', '/records', data);
    api.chosen = made.id;
    say(`${type} created with phone ${state.ident.caller_number}.`);
    screenPop(made.id, type);
  });
  wrap.append(el('h3', { text: `New record (phone ${state.ident.caller_number})` }),
    el('div', { class: 'wf-row' }, first, last, org),
    el('div', { class: 'wf-row' }, button('New Contact', create('Contact'), 'btn small primary'),
      button(`New ${other}`, create(other), 'btn small primary')));
  return wrap;
}

function contactSearch(onChosen, updatePhoneButton = true) {
  return searchBox(async (q, results) => {
    const found = await request('GET', `/search?q=${encodeURIComponent(q)}&scope=${secondObject()}`);
    results.replaceChildren(found.rows.length
      ? recordTable(found.rows, extraColumnsOf(found.columns, found.rows), onChosen, { updatePhone: updatePhoneButton })
      : el('p', { class: 'muted', text: 'No records found.' }));
  });
}

async function contactWorkflow(ident) {
  const sfm = ident.salesforce;
  if (sfm.kind === 'single') {
    screenPop(sfm.records[0].Id, sfm.records[0].type);
    // The workflow may single out one of several matches (a contact beside a lead): relate the Task to it.
    await chooseRecord(sfm.records[0]);
    return;
  }
  const onChosen = async (r) => {
    await chooseRecord(r);
    screenPop(r.Id, r.type);
    closeDialog();
  };
  openDialog(dialogTitle());
  await appendMatches(sfm, onChosen);
  els.body.append(contactSearch(onChosen), newRecordForms(),
    el('div', { class: 'wf-footer' }, button('Close', closeDialog, 'btn small secondary')));
}

// --- Case ------------------------------------------------------------------------------------------
async function caseOnRing(ident) {
  const sfm = ident.salesforce;
  if (sfm.kind === 'single') screenPop(sfm.records[0].Id, sfm.records[0].type);
}

async function caseOnAnswer(ident) {
  const sfm = ident.salesforce;
  const single = sfm.kind === 'single' && sfm.records[0].type === 'Contact' ? sfm.records[0] : null;
  const made = await request('POST', '/case', { auto: true, contact_id: single ? single.Id : '',
    account_id: single ? single.AccountId || '' : '' });
  api.caseId = made.id;
  screenPop(made.id, 'Case');
}

// --- CaseDialog ----------------------------------------------------------------------------------------
async function newCase(contact) {
  const made = await request('POST', '/case', contact ? { contact_id: contact.Id, account_id: contact.AccountId || '' } : {});
  api.caseId = made.id;
  screenPop(made.id, 'Case');
  closeDialog();
}

function caseTable(cases, extra) {
  const heads = ['Case Number', 'Account Name', 'Subject', 'Created Date', 'Last Modified Date', ...extra, ''];
  const table = el('table', { class: 'wf-table' });
  table.append(el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { text: h })))));
  const tbody = el('tbody');
  const day = (v) => (v ? new Date(v).toLocaleString() : '');
  for (const c of cases) {
    const tr = el('tr', { 'data-id': c.Id, 'data-type': 'Case' },
      el('td', { text: c.CaseNumber || '' }), el('td', { text: c.AccountName || '' }), el('td', { text: c.Subject || '' }),
      el('td', { text: day(c.CreatedDate) }), el('td', { text: day(c.LastModifiedDate) }));
    for (const x of extra) tr.append(el('td', { text: c.extra[x] != null ? String(c.extra[x]) : '' }));
    tr.append(el('td', { class: 'wf-actions' }, button('Choose', guard(async () => {
      await request('POST', '/choose', { id: c.Id, type: 'Case' });
      api.caseId = c.Id;
      screenPop(c.Id, 'Case');
      closeDialog();
    }), 'btn small choose')));
    tbody.append(tr);
  }
  table.append(tbody);
  return el('div', { class: 'wf-scroll' }, table);
}

async function caseDialogFor(contactId) {
  const contact = await request('GET', `/contact/${encodeURIComponent(contactId)}`);
  await request('POST', '/choose', { id: contact.Id, type: 'Contact', account_id: contact.AccountId });
  openDialog(dialogTitle());
  const details = [contact.Name, contact.AccountName, ...Object.values(contact.extra || {})].filter(Boolean);
  els.body.append(el('p', { class: 'wf-contact', id: 'wf-contact' }, el('strong', { text: details.join(' · ') }),
    el('span', { class: 'muted', text: ` — ${state.ident.queue_label}` })));
  const recent = await request('GET', `/cases?contact_id=${encodeURIComponent(contact.Id)}`);
  const list = el('div', { id: 'wf-cases' });
  list.append(recent.cases.length ? caseTable(recent.cases, recent.columns) : el('p', { class: 'muted', text: 'No cases yet.' }));
  const fields = (state.ident.case_search_fields || []).join(', ');
  const input = el('input', { type: 'search', class: 'wf-input', id: 'wf-case-search', maxlength: '100',
    placeholder: fields ? `Case number or ${fields}` : 'Case number', 'aria-label': 'Search another case' });
  const form = el('form', { class: 'wf-search', onsubmit: guard(async (e) => {
    e.preventDefault();
    const found = await request('GET', `/cases?contact_id=${encodeURIComponent(contact.Id)}&q=${encodeURIComponent(input.value)}`);
    list.replaceChildren(found.cases.length ? caseTable(found.cases, found.columns) : el('p', { class: 'muted', text: 'No cases found.' }));
    list.dataset.query = input.value; // what the list shows now
  }) }, input, el('button', { type: 'submit', class: 'btn small', text: 'Search' }));
  els.body.append(el('h3', { text: 'Five recent cases are displayed, search for more' }), form, list,
    el('div', { class: 'wf-footer' },
      button('New Case', guard(() => newCase(contact)), 'btn small primary'),
      button('New Case – Not identified', guard(() => newCase(null)), 'btn small secondary'),
      button('Close', closeDialog, 'btn small secondary')));
}

async function caseDialogWorkflow(ident) {
  const sfm = ident.salesforce;
  if (sfm.kind === 'single' && sfm.records[0].type === 'Contact') {
    await caseDialogFor(sfm.records[0].Id);
    return;
  }
  const onChosen = async (r) => {
    if (r.type === 'Contact') await caseDialogFor(r.Id);
    else {
      await chooseRecord(r);
      screenPop(r.Id, r.type);
      closeDialog();
    }
  };
  openDialog(dialogTitle());
  await appendMatches(sfm, onChosen);
  els.body.append(contactSearch(onChosen), el('div', { class: 'wf-footer' },
    button('New Case', guard(() => newCase(null)), 'btn small primary'),
    button('Close', closeDialog, 'btn small secondary')));
}

// --- wiring ------------------------------------------------------------------------------------------
async function onRinging(call) {
  if (!call.id || call.id === state.callId) return;
  state.callId = call.id;
  state.ident = null;
  state.declined = false;
  api.caseId = null;
  api.chosen = null;
  closeDialog();
  els.identity.hidden = true;
  const ident = await loadIdentity(call.id);
  if (!ident || state.callId !== call.id) return;
  state.ident = ident;
  showIdentity(ident);
  if (ident.direction === 'outbound' && call.recordId) {
    // Click-to-dial from a record: relate the call's Task to it.
    await guard(() => request('POST', '/choose', { id: call.recordId }))();
    api.chosen = call.recordId;
  }
  if (ident.directory) return;
  if (ident.direction === 'outbound') {
    // Case workflow (2.1.3/2.1.4): the case is created when the customer answers.
    if (ident.workflow === 'case' && (state.answered || call.state === 'in_call')) await onAnswered();
    return;
  }
  const run = { contact_account: contactWorkflow, contact_lead: contactWorkflow, case: caseOnRing,
    case_dialog: caseDialogWorkflow }[ident.workflow] || contactWorkflow;
  await guard(run)(ident);
  if (state.answered) await onAnswered();
}

async function onAnswered() {
  state.answered = true;
  if (!state.ident || state.ident.workflow !== 'case' || state.ident.directory || api.caseId) return;
  await guard(caseOnAnswer)(state.ident);
}

function attach(core) {
  core.on('incoming', ({ call }) => { state.answered = false; onRinging(call); });
  core.on('callupdate', ({ call }) => { if (call.state !== 'ended') onRinging(call); });
  core.on('accepted', ({ call }) => { if (call.id === state.callId) onAnswered(); });
  core.on('ended', () => { state.answered = false; });
  els.close.addEventListener('click', closeDialog);
  api.ready = true;
}

function waitForCore(tries = 200) {
  const phone = window.switchboardPhone;
  if (phone && phone.core) attach(phone.core);
  else if (tries > 0) setTimeout(() => waitForCore(tries - 1), 25);
}

if (root) waitForCore();
