// Open CTI shell: when Salesforce frames /softphone, load opencti_min.js from the parent org's domain,
// report initialization, enable click-to-dial, hand dialled numbers to the phone core, and open the
// softphone panel when a call comes in; bridge the Omni-Channel presence sync (below).
// Not framed (or not by Salesforce): does nothing, the page works as the standalone phone.

const SALESFORCE_HOST = /^https:\/\/[a-z0-9-]+(\.[a-z0-9-]+)*\.(lightning\.force\.com|my\.salesforce\.com|vf\.force\.com)$/i;
const API_VERSION = '59.0';
const shell = { framed: window.parent !== window, origin: '', ready: false, lastDial: null };
window.switchboardOpenCti = shell;

function parentOrigin() {
  const ancestors = window.location.ancestorOrigins;
  const candidate = (ancestors && ancestors.length && ancestors[0]) || (document.referrer ? new URL(document.referrer).origin : '');
  return SALESFORCE_HOST.test(candidate) ? candidate : '';
}

function core() {
  return window.switchboardPhone && window.switchboardPhone.core;
}

/** Seed 2.1.1a: the phone UI opens by itself when a call comes in (the utility bar panel shows). */
function showPanelOnIncoming(api, tries = 200) {
  const c = core();
  if (!c) {
    if (tries > 0) setTimeout(() => showPanelOnIncoming(api, tries - 1), 25);
    return;
  }
  c.on('incoming', () => {
    try {
      api.setSoftphonePanelVisibility({ visible: true, callback: () => {} });
    } catch (_err) {
      // an older library without it: the call still rings in the panel
    }
  });
}

function onClickToDial(payload) {
  const number = payload && payload.number;
  const recordId = payload && payload.recordId;
  shell.lastDial = { number, recordId };
  const c = core();
  if (c && typeof c.dial === 'function') c.dial(String(number || ''), { recordId });
}

/**
 * Omni-Channel presence sync (seed 1.3), the browser half: Salesforce lets only the agent's own browser
 * write their Omni status, so the Lightning component SwitchboardOmniSync (salesforce/) does it. This
 * page hands it, over the Lightning Message Service channel, the admin's mapping table and every
 * presence change; from it, the agent choosing Offline in the Omni widget (the server then switches
 * their voice queues off). The server reads Omni status itself (worker/omnisync.py).
 */
const OMNI_CHANNEL = 'SwitchboardPresence__c';

function bridgeOmni(api) {
  if (typeof api.publish !== 'function' || typeof api.subscribe !== 'function') return;
  const send = (type, payload) => {
    try {
      api.publish({ channelName: OMNI_CHANNEL, message: { type, payload } });
    } catch (err) {
      console.error('Switchboard: publishing to the Omni-Channel component failed', err);
    }
  };
  fetch('/api/presence/omni', { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (!data || !data.sync) return;
      shell.omni = true;
      send('mapping', data.mapping);
      const now = window.switchboardPresence && window.switchboardPresence.state();
      if (now) send('presence', now);
      window.addEventListener('switchboard:presence', (e) => send('presence', e.detail));
      api.subscribe({ channelName: OMNI_CHANNEL, listener: (message) => {
        if (!message || message.type !== 'omni_logout') return;
        const panel = document.getElementById('presence');
        fetch('/api/presence/omni-logout', { method: 'POST', credentials: 'same-origin',
          headers: { 'X-CSRF-Token': panel ? panel.dataset.csrf : '' } });
      } });
    })
    .catch(() => {});
}

function start() {
  const origin = parentOrigin();
  if (!shell.framed || !origin) return; // not embedded in Salesforce: degrade to the standalone phone
  shell.origin = origin;
  const script = document.createElement('script');
  script.src = `${origin}/support/api/${API_VERSION}/lightning/opencti_min.js`;
  script.onload = () => {
    const api = window.sforce && window.sforce.opencti;
    if (!api) return;
    api.notifyInitializationComplete();
    api.enableClickToDial({ callback: () => {} });
    api.onClickToDial({ listener: onClickToDial });
    showPanelOnIncoming(api);
    bridgeOmni(api);
    shell.ready = true;
  };
  script.onerror = () => { shell.error = 'opencti_min.js could not be loaded'; };
  document.head.append(script);
}

start();
