// Dialler of the standalone phone: keypad, call history, display number, and the in-call controls
// (mute, hold, keypad tones, blind and consult transfer). Call logic lives in PhoneCore; this module
// only wires the DOM of templates/phone.html to it. Numbers and names are untrusted text: they are
// only ever set with textContent.

import { cleanNumber } from './core.js';
import { userAnswered } from './screenpop.js';

const $ = (id) => document.getElementById(id);
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const DISPLAY_STORAGE = 'switchboard.displayNumber';
const HISTORY_URL = '/api/history';
const DISPLAY_URL = '/api/display-numbers';
const TARGETS_URL = '/api/transfer-targets';

function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds || 0));
  const mm = Math.floor(s / 60);
  return `${mm}:${String(s % 60).padStart(2, '0')}`;
}

function formatWhen(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return today ? time : `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}

async function getJson(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function isTyping(target) {
  return target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA');
}

// Inputs that are not text fields: Escape there still hangs up.
const NOT_TEXT = new Set(['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file', 'image']);

/** Whether `target` takes text (a field, a select, an editable element): its keys belong to it. */
function isTextField(target) {
  if (!target || !target.tagName) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  return target.tagName === 'INPUT' && !NOT_TEXT.has(String(target.type || 'text').toLowerCase());
}

/** Whether Enter on `target` already does something (a field, a button, a link, a summary). */
function isActionable(target) {
  if (!target || !target.tagName) return false;
  if (isTextField(target) || target.tagName === 'INPUT') return true;
  return Boolean(target.closest && target.closest('button, a[href], summary, [role=button], [role=option]'));
}

/** Whether a dialog is open (a modal one, or focus sits in one): Escape belongs to it, not to the call. */
function inDialog(target) {
  if (document.querySelector('dialog[open]')) return true;
  return Boolean(target && target.closest && target.closest('dialog, [role=dialog]'));
}

/** Escape in a text field: clear it (its own input event follows), or leave it when already empty. */
function escapeField(field) {
  if (field.tagName !== 'SELECT' && !field.isContentEditable && field.value) {
    field.value = '';
    field.dispatchEvent(new Event('input', { bubbles: true }));
  } else {
    field.blur();
  }
}

/** Wire the dialler, history and in-call controls to `core`; returns {dial, refreshHistory}. */
export function initDialer(core) {
  const els = {
    dialer: $('dialer'),
    form: $('dial-form'),
    number: $('dial-number'),
    call: $('dial-call'),
    backspace: $('dial-backspace'),
    keypad: $('keypad'),
    tones: $('dtmf-sent'),
    display: $('display-number'),
    history: $('history-list'),
    historyEmpty: $('history-empty'),
    mute: $('mute'),
    hold: $('hold'),
    transferRow: $('transfer'),
    transferTarget: $('transfer-target'),
    transferTargets: $('transfer-targets'),
    transferResolved: $('transfer-resolved'),
    transferBlind: $('transfer-blind'),
    transferConsult: $('transfer-consult'),
    consultRow: $('consult'),
    consultText: $('consult-text'),
    consultComplete: $('consult-complete'),
    consultCancel: $('consult-cancel'),
    transferStatus: $('transfer-status'),
    deskDial: $('desk-dial'),
  };
  let choices = [];
  let targets = []; // transfer targets by name: {kind: 'queue'|'agent', name, aliases, number, detail}

  // --- keypad ------------------------------------------------------------------------------------
  for (const key of KEYS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'key';
    button.dataset.key = key;
    button.textContent = key;
    button.setAttribute('aria-label', key === '*' ? 'star' : key === '#' ? 'hash' : key);
    els.keypad.append(button);
  }

  const inCall = () => {
    const call = core.call;
    return Boolean(call && call.state === 'in_call');
  };
  const busy = () => {
    const call = core.call;
    return Boolean(call && call.state !== 'ended');
  };

  function press(key) {
    if (inCall()) {
      if (core.sendDtmf(key)) els.tones.textContent = `${els.tones.textContent}${key}`.slice(-24);
      return;
    }
    const input = els.number;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.value = `${input.value.slice(0, start)}${key}${input.value.slice(end)}`;
    input.focus();
    input.setSelectionRange(start + key.length, start + key.length);
    updateButtons();
  }

  els.keypad.addEventListener('click', (e) => {
    const button = e.target.closest('button[data-key]');
    if (button) press(button.dataset.key);
  });
  // Long press on 0 gives + (as on a mobile phone).
  let zeroTimer = null;
  els.keypad.addEventListener('pointerdown', (e) => {
    const button = e.target.closest('button[data-key="0"]');
    if (!button || inCall()) return;
    zeroTimer = setTimeout(() => {
      zeroTimer = 'fired';
      press('+');
    }, 600);
  });
  els.keypad.addEventListener('pointerup', () => {
    if (zeroTimer && zeroTimer !== 'fired') clearTimeout(zeroTimer);
  });
  els.keypad.addEventListener('click', (e) => {
    if (zeroTimer === 'fired' && e.target.closest('button[data-key="0"]')) {
      e.stopImmediatePropagation();
      els.number.value = els.number.value.replace(/0$/, '');
    }
    zeroTimer = null;
  }, true);

  els.backspace.addEventListener('click', () => {
    els.number.value = els.number.value.slice(0, -1);
    els.number.focus();
    updateButtons();
  });
  els.number.addEventListener('input', updateButtons);

  function updateButtons() {
    els.call.disabled = busy() || !cleanNumber(els.number.value) || core.registration.state !== 'registered';
    els.backspace.disabled = !els.number.value;
  }

  // --- display number ------------------------------------------------------------------------------
  function selectedDisplay() {
    const choice = choices.find((c) => c.kind === els.display.value);
    return choice ? { kind: choice.kind, token: choice.token } : null;
  }

  async function loadDisplayNumbers() {
    try {
      const body = await getJson(DISPLAY_URL);
      choices = Array.isArray(body.choices) ? body.choices : [];
    } catch (_err) {
      choices = [];
    }
    els.display.replaceChildren();
    for (const c of choices) {
      const option = document.createElement('option');
      option.value = c.kind;
      option.textContent = c.number ? `${c.label} · ${c.number}` : c.label;
      els.display.append(option);
    }
    const saved = localStorage.getItem(DISPLAY_STORAGE);
    if (saved && choices.some((c) => c.kind === saved)) els.display.value = saved;
    els.display.disabled = choices.length === 0;
  }
  els.display.addEventListener('change', () => localStorage.setItem(DISPLAY_STORAGE, els.display.value));

  // --- calling -------------------------------------------------------------------------------------
  function dial(raw) {
    const number = cleanNumber(raw === undefined ? els.number.value : raw);
    if (!number) {
      els.number.setAttribute('aria-invalid', 'true');
      return false;
    }
    els.number.removeAttribute('aria-invalid');
    els.number.value = number;
    const ok = core.dial(number, { display: selectedDisplay() });
    // The call is placed: the field is done, so Escape (from anywhere but a text field) hangs up.
    if (ok && document.activeElement === els.number) els.number.blur();
    updateButtons();
    return ok;
  }

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    dial();
  });

  // --- history -------------------------------------------------------------------------------------
  function renderHistory(calls) {
    els.history.replaceChildren();
    els.historyEmpty.hidden = calls.length > 0;
    for (const c of calls) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'history-item';
      button.dataset.number = c.number || '';
      button.dataset.disposition = c.disposition || '';
      button.title = c.number ? `Call ${c.number}` : '';
      button.disabled = !cleanNumber(c.number);
      const dir = document.createElement('span');
      dir.className = 'history-dir';
      dir.dataset.direction = c.direction || '';
      dir.textContent = c.direction === 'outbound' ? '↗' : '↙';
      dir.title = c.direction || '';
      const who = document.createElement('span');
      who.className = 'history-who';
      const num = document.createElement('span');
      num.className = 'history-number';
      num.textContent = c.display || c.number || 'Unknown number';
      const sub = document.createElement('span');
      sub.className = 'history-sub';
      sub.textContent = [c.name, c.queue_label || c.queue].filter(Boolean).join(' · ');
      who.append(num, sub);
      const meta = document.createElement('span');
      meta.className = 'history-meta';
      const result = document.createElement('span');
      result.className = 'history-result';
      result.textContent = c.disposition === 'answered' ? formatDuration(c.duration_seconds) : (c.disposition || '');
      const when = document.createElement('span');
      when.className = 'history-when';
      when.textContent = formatWhen(c.ended_at || c.started_at);
      meta.append(result, when);
      button.append(dir, who, meta);
      li.append(button);
      els.history.append(li);
    }
  }

  async function refreshHistory() {
    try {
      const body = await getJson(HISTORY_URL);
      renderHistory(Array.isArray(body.calls) ? body.calls : []);
    } catch (_err) {
      // keep what is shown
    }
  }

  els.history.addEventListener('click', (e) => {
    const button = e.target.closest('button.history-item');
    if (!button || busy()) return;
    els.number.value = button.dataset.number;
    dial(button.dataset.number);
  });

  // --- in-call controls ----------------------------------------------------------------------------
  function showMedia(call) {
    const muted = Boolean(call && call.muted);
    const held = Boolean(call && call.onHold);
    els.mute.setAttribute('aria-pressed', String(muted));
    els.mute.textContent = muted ? 'Unmute' : 'Mute';
    els.hold.setAttribute('aria-pressed', String(held));
    els.hold.textContent = held ? 'Resume' : 'Hold';
  }

  function showConsult(consult) {
    const active = Boolean(consult && consult.state !== 'ended');
    els.consultRow.hidden = !active;
    els.transferRow.hidden = active || !inCall();
    if (active) {
      const who = targetLabel(consult.number);
      els.consultText.textContent = consult.state === 'in_call' ? `Talking to ${who}` : `Calling ${who}…`;
      els.consultComplete.disabled = consult.state !== 'in_call';
    }
  }

  // --- transfer targets: a queue or an agent by name (a list to pick from), or any number ---------
  async function loadTransferTargets() {
    let body;
    try {
      body = await getJson(TARGETS_URL);
    } catch (_err) {
      return; // keep the list we have; numbers still work
    }
    const queues = (Array.isArray(body.queues) ? body.queues : []).map((q) => ({
      kind: 'queue', name: String(q.label || q.name), aliases: [String(q.name)], number: String(q.number),
      detail: `Queue · ${q.number}${q.mine ? ' · my queue' : ''}`,
    }));
    const agents = (Array.isArray(body.agents) ? body.agents : []).map((a) => ({
      kind: 'agent', name: String(a.name), aliases: [String(a.number)], number: String(a.number),
      detail: ['Agent', a.presence && a.presence.status].filter(Boolean).join(' · '),
    }));
    targets = [...queues, ...agents].filter((t) => t.name && cleanNumber(t.number));
    els.transferTargets.replaceChildren(...targets.map((t) => {
      const option = document.createElement('option');
      option.value = t.name;
      option.label = t.detail;
      option.textContent = t.detail;
      return option;
    }));
    showResolved();
  }

  /** What the transfer box names: {number, label, kind} of a queue or agent (by name), or a number; or null. */
  function resolveTarget(raw) {
    const text = String(raw || '').trim();
    const key = text.toLocaleLowerCase();
    if (!key) return null;
    const hit = targets.find((t) => t.name.toLocaleLowerCase() === key)
      || targets.find((t) => t.aliases.some((a) => a.toLocaleLowerCase() === key))
      || targets.find((t) => cleanNumber(text) && t.number === cleanNumber(text));
    if (hit) return { number: hit.number, label: hit.name, kind: hit.kind };
    const number = cleanNumber(text);
    return number ? { number, label: number, kind: 'number' } : null;
  }

  /** The name to show for a dialled transfer target (the queue or agent it belongs to, else the number). */
  function targetLabel(number) {
    const hit = targets.find((t) => t.number === number);
    return hit ? hit.name : number;
  }

  function showResolved() {
    const text = els.transferTarget.value.trim();
    const target = resolveTarget(text);
    els.transferResolved.dataset.kind = target ? target.kind : (text ? 'unknown' : '');
    if (!text) els.transferResolved.textContent = '';
    else if (!target) els.transferResolved.textContent = 'Not a queue, agent or number';
    else if (target.kind === 'number') els.transferResolved.textContent = `Number ${target.number}`;
    else els.transferResolved.textContent = `${target.kind === 'queue' ? 'Queue' : 'Agent'} ${target.label} · ${target.number}`;
    els.transferTarget.removeAttribute('aria-invalid');
  }

  /** The transfer box's target, or null (and the box marked invalid). */
  function pickedTarget() {
    const target = resolveTarget(els.transferTarget.value);
    if (!target) els.transferTarget.setAttribute('aria-invalid', 'true');
    else els.transferTarget.removeAttribute('aria-invalid');
    return target;
  }

  function setTransferStatus(message) {
    els.transferStatus.textContent = message;
    els.transferStatus.hidden = !message;
  }

  els.mute.addEventListener('click', () => core.setMuted(!(core.call && core.call.muted)));
  els.hold.addEventListener('click', () => core.setHeld(!(core.call && core.call.onHold)));
  els.transferBlind.addEventListener('click', () => {
    const target = pickedTarget();
    return target ? core.transfer(target.number) : false;
  });
  els.transferConsult.addEventListener('click', () => {
    const target = pickedTarget();
    return target ? core.startConsult(target.number) : false;
  });
  els.transferTarget.addEventListener('input', showResolved);
  els.transferTarget.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      e.stopPropagation();
      els.transferBlind.click();
    }
  });
  els.consultComplete.addEventListener('click', () => core.completeConsult());
  els.consultCancel.addEventListener('click', () => core.cancelConsult());

  function showCallControls() {
    const call = core.call;
    const up = Boolean(call && call.state === 'in_call');
    els.dialer.dataset.mode = up ? 'tones' : 'dial';
    els.number.hidden = up;
    els.tones.hidden = !up;
    els.transferRow.hidden = !up || Boolean(core.consult);
    if (!up) {
      els.consultRow.hidden = true;
      els.tones.textContent = '';
    }
    showMedia(call);
    updateButtons();
  }

  // An agent on a SIP phone dials, mutes, holds and sends tones on the phone; the page offers hang-up,
  // blind and consult transfer (through the server).
  core.on('config', () => {
    if (!core.deskPhone) return;
    els.form.hidden = true;
    els.deskDial.hidden = false;
    els.display.closest('.display-row').hidden = true;
    for (const el of [els.mute, els.hold]) el.hidden = true;
  });
  core.on('registration', updateButtons);
  core.on('incoming', showCallControls);
  core.on('outgoing', () => {
    setTransferStatus('');
    showCallControls();
  });
  core.on('accepted', () => {
    showCallControls();
    loadTransferTargets(); // fresh presence of the agents to pick from
  });
  core.on('media', ({ call }) => showMedia(call));
  core.on('consult', ({ consult }) => showConsult(consult));
  core.on('transfer', ({ kind, state, target, cause }) => {
    const what = kind === 'blind' ? 'Transfer' : 'Consult transfer';
    const who = targetLabel(target);
    if (state === 'requested') setTransferStatus(`${what} to ${who}…`);
    else if (state === 'accepted') setTransferStatus(`${what} to ${who} done.`);
    else setTransferStatus(`${what} to ${who} failed${cause ? `: ${cause}` : ''}.`);
  });
  core.on('ended', () => {
    els.transferTarget.value = ''; // the next call starts with an empty transfer box
    showResolved();
    showCallControls();
    // The worker writes the call to history a moment after Asterisk ends it.
    setTimeout(refreshHistory, 1500);
    setTimeout(refreshHistory, 5000);
  });

  // --- keyboard: Enter calls or answers, Escape hangs up, digits are tones during a call ------------
  // Keys typed in a text field belong to that field: Escape there clears (then leaves) the field and
  // never ends a call; Enter there acts on the field (a search searches). A dialog keeps its Escape.
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey) return;
    const call = core.call;
    const state = call ? call.state : 'idle';
    if (e.altKey) {
      if (state !== 'in_call') return;
      if (e.key === 'm' || e.key === 'M') core.setMuted(!call.muted);
      else if (e.key === 'h' || e.key === 'H') core.setHeld(!call.onHold);
      else return;
      e.preventDefault();
      return;
    }
    if (e.key === 'Escape') {
      if (isTextField(e.target)) {
        e.preventDefault();
        escapeField(e.target);
        return;
      }
      if (inDialog(e.target)) return;
      if (core.consult) core.cancelConsult();
      else if (state === 'ringing') core.decline();
      else if (state === 'in_call' || state === 'dialing') core.hangup();
      else return;
      e.preventDefault();
      return;
    }
    if (e.key === 'Enter' && state === 'ringing') {
      if (isActionable(e.target) || inDialog(e.target)) return; // the field's or button's own Enter
      e.preventDefault();
      if (core.answer()) userAnswered(); // the key press is the user gesture a pop-up needs
      return;
    }
    if (state === 'in_call' && !isTyping(e.target) && /^[0-9*#]$/.test(e.key)) {
      e.preventDefault();
      press(e.key);
      return;
    }
    if (state !== 'in_call' && state !== 'ringing' && state !== 'dialing' && !isTyping(e.target)
        && /^[0-9*#+]$/.test(e.key)) {
      // Typing digits anywhere on an idle phone goes to the number field.
      e.preventDefault();
      els.number.focus();
      press(e.key);
    }
  });

  loadDisplayNumbers();
  loadTransferTargets();
  refreshHistory();
  showCallControls();
  return { dial, refreshHistory, loadDisplayNumbers, setNumber: (n) => { els.number.value = n; updateButtons(); } };
}
