// Standalone shell of the web phone: wires PhoneCore events to the /phone page.
// Caller details are untrusted text: they are only ever set with textContent.

import { PhoneCore } from './core.js';
import { initDialer } from './dialer.js';
import { findColleague } from './directory.js';
import { callEnded, resetScreenPop, userAnswered } from './screenpop.js';

const $ = (id) => document.getElementById(id);

const REGISTRATION_TEXT = {
  connecting: 'Connecting…',
  registered: 'Registered',
  unregistered: 'Not registered',
  disconnected: 'Not registered',
  failed: 'Not registered',
};

// An agent on a SIP phone: the pill says whether Asterisk has the phone's registration (and reaches it).
const DESK_PHONE_TEXT = {
  connecting: 'Desk phone…',
  registered: 'Desk phone registered',
  unregistered: 'Desk phone not registered',
};

const SOCKET_TEXT = {
  connecting: 'Events connecting…',
  connected: 'Events live',
  disconnected: 'Events offline',
  refused: 'Events refused',
};

const DEVICE_STATE_TEXT = {
  not_inuse: 'Available',
  ringing: 'Ringing',
  inuse: 'On a call',
  busy: 'Busy',
  onhold: 'On hold',
  unavailable: 'Offline',
  invalid: 'Offline',
};

const CALL_ERRORS = new Set(['answer_failed', 'terminate_failed', 'bad_number', 'dial_failed', 'hold_failed',
  'dtmf_failed', 'consult_failed']);

const CALL_STATE_TEXT = { ringing: 'Ringing', dialing: 'Calling…', in_call: 'In call', ended: 'Call ended' };

const els = {
  phone: $('phone'),
  regStatus: $('reg-status'),
  regDetail: $('reg-detail'),
  linkStatus: $('link-status'),
  agentState: $('agent-state'),
  idle: $('idle'),
  call: $('call'),
  callState: $('call-state'),
  callTimer: $('call-timer'),
  callerNumber: $('caller-number'),
  callerName: $('caller-name'),
  callerTag: $('caller-tag'),
  queueName: $('queue-name'),
  incoming: $('incoming'),
  active: $('active'),
  answer: $('answer'),
  answerOnPhone: $('answer-on-phone'),
  deskPhone: $('desk-phone'),
  deskPhoneAccount: $('desk-phone-account'),
  decline: $('decline'),
  hangup: $('hangup'),
  audio: $('remote-audio'),
};

const core = new PhoneCore({ audioElement: els.audio, csrfToken: els.phone.dataset.csrf || '' });
const phone = {
  core,
  timings: {},
  stats: () => core.stats(),
  currentCallId: () => (core.call ? core.call.id : null),
  answer: () => core.answer(),
  decline: () => core.decline(),
  hangup: () => core.hangup(),
  get registration() {
    return core.registration;
  },
  get call() {
    return core.call;
  },
};
window.switchboardPhone = phone;

const baseTitle = document.title;
let answeredAtPerf = null;
let timerHandle = null;

function nowMs() {
  return performance.timeOrigin + performance.now();
}

function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

function tick() {
  if (answeredAtPerf !== null) {
    els.callTimer.textContent = formatDuration((performance.now() - answeredAtPerf) / 1000);
  }
}

function startTimer(answeredAtEpoch = null) {
  // A call restored after a reload keeps its timer: count from when it was first answered.
  answeredAtPerf = typeof answeredAtEpoch === 'number'
    ? performance.now() - Math.max(0, Date.now() - answeredAtEpoch * 1000)
    : performance.now();
  tick();
  clearInterval(timerHandle);
  timerHandle = setInterval(tick, 250);
}

function stopTimer() {
  tick();
  clearInterval(timerHandle);
  timerHandle = null;
  answeredAtPerf = null;
}

let colleague = null; // {number, name}: the directory's agent a direct call comes from
let lookedUp = ''; // the number last looked up in the directory for the current call

function showCaller(call) {
  const known = colleague && colleague.number === call.number && !call.queue ? colleague : null;
  const name = known ? known.name : call.name; // the directory's name, not what the caller's phone claims
  els.callerNumber.textContent = call.display || call.number || 'Unknown number';
  els.callerName.textContent = name || '';
  els.callerName.hidden = !name;
  els.callerTag.hidden = !known;
  els.queueName.textContent = call.queueLabel || call.queue || '';
}

/** A direct call (not from a queue): the directory says whether a colleague is calling, and who. */
async function identifyColleague(call) {
  if (call.queue || call.direction !== 'inbound' || !call.number || lookedUp === call.number) return;
  lookedUp = call.number;
  const found = await findColleague(call.number);
  const now = core.call;
  if (!found || !now || now.number !== call.number || now.state === 'ended') return;
  colleague = { number: call.number, name: found.name };
  showCaller(now);
}

function showCallState(call) {
  els.phone.dataset.state = call.state;
  els.call.dataset.state = call.state;
  els.callState.textContent = CALL_STATE_TEXT[call.state] || call.state;
  els.idle.hidden = true;
  els.call.hidden = false;
  els.incoming.hidden = call.state !== 'ringing';
  els.active.hidden = call.state !== 'in_call' && call.state !== 'dialing';
  els.answer.disabled = false;
  els.decline.disabled = false;
  els.hangup.disabled = false;
}

function setPill(el, state, label, title) {
  el.dataset.state = state;
  el.textContent = label;
  el.title = title || '';
}

/** A SIP-phone agent's page: the phone answers; its account is at hand for setting the phone up. */
function showDeskPhone(me) {
  els.phone.dataset.device = core.device;
  if (!core.deskPhone) return;
  els.answer.hidden = true;
  els.answerOnPhone.hidden = false;
  els.regStatus.title = 'Your desk phone or softphone, as the phone server sees it';
  const account = me.phone || {};
  const rows = [
    ['SIP user name', account.username], ['Password', account.password],
    ['Domain / registrar', account.domain],
    ['Port', `${account.udp_port} (UDP), ${account.tcp_port} (TCP)`],
    ['Codecs', (account.codecs || []).join(', ')], ['Auth realm', account.realm],
  ];
  els.deskPhoneAccount.replaceChildren(...rows.flatMap(([label, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value === undefined || value === null ? '' : String(value);
    return [dt, dd];
  }));
  els.deskPhone.hidden = false;
}

core.on('config', ({ me }) => showDeskPhone(me));

core.on('registration', ({ state, cause }) => {
  const text = (core.deskPhone ? DESK_PHONE_TEXT : REGISTRATION_TEXT)[state] || state;
  setPill(els.regStatus, state, text, cause || (core.deskPhone ? els.regStatus.title : ''));
  let detail = '';
  if (state === 'failed') detail = `Registration failed${cause ? `: ${cause}` : ''}.`;
  else if (state === 'disconnected') detail = `Phone server unreachable${cause ? ` (${cause})` : ''}; retrying…`;
  else if (state === 'unregistered' && cause) detail = `Unregistered: ${cause}.`;
  els.regDetail.textContent = detail;
  els.regDetail.hidden = !detail;
});

core.on('socket', ({ state, reason }) => {
  setPill(els.linkStatus, state, SOCKET_TEXT[state] || state, reason);
  if (state === 'refused' && reason === 'not_logged_in') {
    window.location.assign(`/login?next=${encodeURIComponent('/phone')}`);
  }
});

core.on('agentstate', (data) => {
  const parts = [];
  parts.push(data.paused ? 'Paused' : DEVICE_STATE_TEXT[data.device_state] || String(data.device_state || ''));
  if (Array.isArray(data.queues) && data.queues.length) {
    const known = (window.switchboardPresence && window.switchboardPresence.state().queues) || [];
    const label = (key) => (known.find((q) => q.name === key) || {}).label || key;
    parts.push(`Queues: ${data.queues.map(label).join(', ')}`);
  }
  els.agentState.textContent = parts.filter(Boolean).join(' · ');
  els.agentState.dataset.deviceState = String(data.device_state || '');
  els.agentState.dataset.paused = data.paused ? 'true' : 'false';
  els.agentState.hidden = false;
});

core.on('incoming', ({ call }) => {
  resetScreenPop();
  stopTimer();
  els.callTimer.textContent = '00:00';
  colleague = null;
  lookedUp = '';
  showCaller(call);
  showCallState(call);
  identifyColleague(call);
  phone.timings = { call_id: call.id, offered_at_ms: nowMs() };
  noteTimings(call);
  document.title = `Ringing: ${call.display || call.number || 'call'} · ${baseTitle}`;
});

function noteTimings(call) {
  // For the ring -> screen benchmark: when Asterisk rang (orchestrator clock) and when the queue showed.
  if (phone.timings.call_id !== call.id) return;
  if (typeof call.rangAt === 'number') phone.timings.rang_at = call.rangAt;
  if (call.source === 'switchboard' && !phone.timings.queue_shown_at_ms) phone.timings.queue_shown_at_ms = nowMs();
}

core.on('callupdate', ({ call }) => {
  showCaller(call);
  if (call.state !== 'ended') identifyColleague(call); // the server's offer may name the caller anew
  noteTimings(call);
});

core.on('restoring', ({ call }) => {
  els.regDetail.textContent = `Reconnecting your call with ${call.caller_number || 'the customer'}…`;
  els.regDetail.hidden = false;
});

core.on('accepted', ({ call }) => {
  showCallState(call);
  // answered on the desk phone: the server's time of the answer (call_answered) starts the timer
  startTimer(call.reconnected || core.deskPhone ? call.answeredAt : null);
  if (core.deskPhone) userAnswered(); // a screen pop waiting for the answer: try now, else its link
  if (call.reconnected) els.regDetail.hidden = true;
  phone.timings.answered_at_ms = nowMs();
  document.title = `In call · ${baseTitle}`;
});

core.on('ended', ({ call, cause }) => {
  callEnded();
  stopTimer();
  showCallState(call);
  phone.timings.ended_at_ms = nowMs();
  document.title = baseTitle;
  els.callState.title = cause || '';
});

core.on('error', ({ code, message }) => {
  if (code === 'not_logged_in') {
    window.location.assign(`/login?next=${encodeURIComponent('/phone')}`);
    return;
  }
  // Call actions that failed leave the registration as it is; start-up failures mean no phone.
  if (!CALL_ERRORS.has(code)) setPill(els.regStatus, 'failed', 'Not registered', code);
  els.regDetail.textContent = message || code;
  els.regDetail.hidden = false;
});

els.answer.addEventListener('click', () => {
  els.answer.disabled = true;
  els.decline.disabled = true;
  if (!core.answer()) els.answer.disabled = els.decline.disabled = false;
  else userAnswered(); // the click is the user gesture a pop-up needs
});
els.decline.addEventListener('click', () => {
  els.decline.disabled = true;
  core.decline();
});
els.hangup.addEventListener('click', () => {
  els.hangup.disabled = true;
  if (!core.hangup()) els.hangup.disabled = false;
});

core.on('outgoing', ({ call }) => {
  colleague = null;
  resetScreenPop(true);
  stopTimer();
  els.callTimer.textContent = '00:00';
  showCaller(call);
  showCallState(call);
  phone.timings = { call_id: null, dialed_at_ms: nowMs() };
  document.title = `Calling ${call.number} · ${baseTitle}`;
});

// The dialler (keypad, history, display number) and the in-call controls: static/phone/dialer.js.
const dialer = initDialer(core);
phone.dialer = dialer;
phone.dial = (number) => dialer.dial(number);

// /dial?number=… (click-to-dial) lands here as /phone?dial=…: fill in, and call once registered
// unless call=0. The parameter is dropped from the address so a reload does not call again.
const params = new URLSearchParams(window.location.search);
const toDial = params.get('dial');
if (toDial) {
  dialer.setNumber(toDial);
  window.history.replaceState(null, '', window.location.pathname);
  if (params.get('call') !== '0') {
    const off = core.on('registration', ({ state }) => {
      if (state !== 'registered') return;
      off();
      if (!core.call || core.call.state === 'ended') dialer.dial(toDial);
    });
  }
}

// tel: links anywhere in the browser open this phone (/dial cleans the tel: URI). Asked once per browser,
// only by the top-level page (a framed phone cannot register a handler); the browser asks the agent.
const TEL_HANDLER_ASKED = 'switchboard.telHandler';
function registerTelHandler() {
  if (window.top !== window || typeof navigator.registerProtocolHandler !== 'function') return;
  if (localStorage.getItem(TEL_HANDLER_ASKED)) return;
  try {
    navigator.registerProtocolHandler('tel', `${window.location.origin}/dial?number=%s`);
    localStorage.setItem(TEL_HANDLER_ASKED, String(Date.now()));
  } catch (_err) {
    // not allowed here (an insecure origin, an embedded page): /dial?number=… still works
  }
}
registerTelHandler();

core.start();
