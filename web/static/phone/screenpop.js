// Screen pop outside Salesforce: the record's Lightning URL in one reused tab (named SF_TAB).
// Browsers block window.open without a user gesture, and a ringing call is none: a pop asked for
// while ringing waits for the agent's Answer (click or Enter, see userAnswered), and a pop the
// browser blocked leaves an "Open record" link (#screen-pop-link, same tab name) to click instead.
// Inside Salesforce (Open CTI) workflows.js pops through sforce.opencti and never comes here.

export const SF_TAB = 'switchboard-salesforce';

const $ = (id) => document.getElementById(id);
const NOTE = {
  pending: 'opens when you answer',
  blocked: 'Pop-up blocked: allow pop-ups for the web phone, or click the link.',
};
const state = { url: '', pending: false, answered: false, status: '', opened: [] };
window.switchboardScreenPop = state;

function show(status) {
  const box = $('screen-pop');
  state.status = status;
  if (!box) return;
  box.dataset.state = status;
  box.hidden = status === '' || status === 'opened';
  $('screen-pop-link').href = state.url || '#';
  $('screen-pop-note').textContent = NOTE[status] || '';
}

function hasGesture() {
  const activation = navigator.userActivation;
  return !activation || activation.isActive; // without the API: try, and fall back to the link
}

function tryOpen() {
  state.pending = false;
  let tab = null;
  try {
    tab = window.open(state.url, SF_TAB);
  } catch (_err) {
    tab = null;
  }
  state.opened.push({ url: state.url, opened: Boolean(tab) });
  show(tab ? 'opened' : 'blocked');
}

/** Pop `url` in the Salesforce tab now if the agent just acted, else on their Answer; a blocked pop leaves a link. */
export function openRecord(url) {
  if (!url) return;
  state.url = url;
  if (hasGesture() || state.answered) tryOpen(); // after the answer, waiting helps nothing: try, else the link
  else {
    state.pending = true;
    show('pending');
  }
}

/** The agent answered (a user gesture): open the pop that waited for it. Call it from the click or key handler. */
export function userAnswered() {
  state.answered = true;
  if (state.pending) tryOpen();
}

/** A new call: forget the last call's pop. `placed`: the agent's own call (no Answer to wait for). */
export function resetScreenPop(placed = false) {
  state.url = '';
  state.pending = false;
  state.answered = placed;
  show('');
}

/** The call ended: a pop still waiting for an Answer that never came is dropped (a blocked one's link stays). */
export function callEnded() {
  if (state.pending) resetScreenPop();
}

function wire() {
  const link = $('screen-pop-link');
  if (!link) return;
  link.target = SF_TAB;
  link.addEventListener('click', () => {
    state.pending = false;
    state.opened.push({ url: state.url, opened: true, link: true });
    setTimeout(() => show('opened'), 0); // after the browser followed the link
  });
}

wire();
