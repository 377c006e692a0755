// Switchboard phone core: one JsSIP user agent plus the /phone Socket.IO event stream.
//
// No DOM work here except playing remote audio, so that every shell (the standalone page,
// later Salesforce Open CTI) reuses it. A shell listens to these events (CustomEvent.detail):
//   registration  {state: 'connecting'|'registered'|'unregistered'|'disconnected'|'failed', cause}
//                 ('disconnected': the SIP WebSocket is down and JsSIP retries by itself)
//   socket        {state: 'connecting'|'connected'|'disconnected'|'refused', reason}
//   incoming      {call}             a call starts ringing (caller details already known)
//   restoring     {call}             the server holds our call (page reloaded, network lost, our leg ended
//                                    by the server as lost): it rings back by itself and is answered at once
//                                    ('accepted', call.reconnected)
//   callupdate    {call}             call details changed (late socket offer, answered/ended info)
//   accepted      {call}             the agent answered; media is being set up
//   ended         {call, cause, originator}
//   agentstate    {agent, device_state, paused, queues}
//   error         {code, message}
//   outgoing      {call}             an outbound call was placed (state 'dialing')
//   media         {call}             mute/hold changed (call.muted, call.onHold)
//   dtmf          {call, tone}       a keypad digit was sent during the call
//   transfer      {kind: 'blind'|'consult', state: 'requested'|'accepted'|'failed', target, cause}
//   consult       {consult}          the consultation call changed: {number, state: 'dialing'|'in_call'|'ended', cause}
// `call` is a plain snapshot: {id, number, name, queue, queueLabel, direction, source, state,
// offeredAt, answeredAt, disposition, durationSeconds, cause, muted, onHold}; state is
// 'ringing'|'dialing'|'in_call'|'ended'.
//
// Two devices (`/api/me` says which, `core.device`): 'webrtc', the page itself is the phone (JsSIP);
// 'sip', a desk phone or softphone registers and carries the audio (`core.deskPhone`). Then no JsSIP
// runs: the call comes from the server's events (call_offered rings, call_answered is the answer on
// the phone, call_ended / call_left end it), `registration` follows the phone's registration as
// Asterisk sees it, and hang-up, decline, blind and consult transfer go to the server
// (/api/calls/<id>/hangup, /transfer, /consult: its state polled while it lasts, /consult/complete,
// /consult/cancel), which acts in Asterisk. Answer, mute, hold, tones and dialling are the phone's.

export const CALL_ID_HEADER = 'X-Switchboard-Call-Id';
export const RECONNECT_HEADER = 'X-Switchboard-Reconnect';
const OFFER_FETCH_DELAY_MS = 300;
// Asterisk ends a lost leg of ours itself (its RTP timeout: our network died silently or the laptop
// slept; or the orchestrator, once our SIP connection closed) with this Q.850 cause in the BYE's Reason
// header, takes the call back and rings us again; an ordinary hang-up by the other party says 16.
export const TAKEN_BACK_CAUSE = 44;
// How long a call taken back waits on screen for that ring: the server rings at least every 16 s.
const RECONNECT_WAIT_MS = 20000;
const CONSULT_POLL_MS = 1000; // a desk phone's consultation: how often the page asks how it goes
export const DIRECT_LABEL = 'Direct';
export const DESK_PHONE = 'sip';
export const DISPLAY_HEADER = 'X-Switchboard-Display';
export const DISPLAY_TOKEN_HEADER = 'X-Switchboard-Display-Token';
export const OUTBOUND_LABEL = 'Outbound';
// What the dialler sends: digits with + * #, or an agent name (letters first).
const DIALABLE = /^(\+?[0-9*#]{1,32}|[A-Za-z][A-Za-z0-9._-]{0,79})$/;
const DTMF_TONES = /^[0-9*#A-D]$/;

/** A dialable string from typed text ('' when nothing dialable): spaces, dashes and brackets go; 00 → +. */
export function cleanNumber(raw) {
  let value = String(raw === undefined || raw === null ? '' : raw).trim();
  if (!/^[A-Za-z]/.test(value)) value = value.replace(/[\s().\-/]/g, '');
  if (value.startsWith('00')) value = `+${value.slice(2)}`;
  return DIALABLE.test(value) ? value : '';
}

const ANSWER_OPTIONS = Object.freeze({
  mediaConstraints: { audio: true, video: false },
  // JsSIP's default STUN server is unreachable offline and stalls ICE gathering.
  pcConfig: { iceServers: [] },
});

/** A call snapshot (see the header): ``fields`` over the defaults of a new, ringing inbound call. */
function newCall(fields) {
  return {
    id: null,
    number: '',
    name: '',
    queue: '',
    queueLabel: DIRECT_LABEL,
    direction: 'inbound',
    source: 'direct',
    state: 'ringing',
    offeredAt: null,
    answeredAt: null,
    disposition: '',
    durationSeconds: null,
    cause: '',
    muted: false,
    onHold: false,
    ...fields,
  };
}

function text(value) {
  return value === undefined || value === null ? '' : String(value);
}

/** JsSIP's ended event of a BYE from the server saying it took our call back (Reason: Q.850;cause=44). */
function takenBack(e) {
  const message = e && e.originator === 'remote' ? e.message : null;
  if (!message || typeof message.getHeader !== 'function') return false;
  const match = /Q\.850\s*;\s*cause\s*=\s*(\d+)/i.exec(text(message.getHeader('Reason')));
  return Boolean(match) && Number(match[1]) === TAKEN_BACK_CAUSE;
}

export class PhoneCore extends EventTarget {
  constructor({
    JsSIP = globalThis.JsSIP,
    io = globalThis.io,
    meUrl = '/api/me',
    currentCallUrl = '/api/calls/current',
    deviceUrl = '/api/device',
    socketNamespace = '/phone',
    socketPath = '/socket.io',
    audioElement = null,
    offerTtlMs = 120000,
    csrfToken = '',
  } = {}) {
    super();
    this._JsSIP = JsSIP;
    this._io = io;
    this._meUrl = meUrl;
    this._currentCallUrl = currentCallUrl;
    this._deviceUrl = deviceUrl;
    this._restored = null; // the call the server kept for us across a reload, until its INVITE comes
    this._socketNamespace = socketNamespace;
    this._socketPath = socketPath;
    this._audio = audioElement;
    this._offerTtlMs = offerTtlMs;
    this._offers = new Map(); // call_id -> {data, expires}: socket offers, matched to INVITEs by call id
    this._ua = null;
    this._socket = null;
    this._session = null;
    this._call = null;
    this._connection = null; // RTCPeerConnection of the current (or last) call
    this._lastBytesReceived = 0;
    this._statsTimer = null;
    this._registration = { state: 'connecting', cause: '' };
    this._consult = null; // {session, number, state, connection}: the consultation call of a warm transfer
    this._transferring = false;
    this._resuming = null; // the new session of a call that came back after our SIP connection was lost
    this._lost = null; // {callId, timer}: the server ended our leg as lost and rings us again for that call
    this._dropped = null; // call id the agent hung up while it was taken back: its ring is answered and ended
    this._offline = false;
    this._csrf = csrfToken;
    this.device = 'webrtc';
    this.me = null;
  }

  /** Subscribe to an event; returns a function that unsubscribes. */
  on(type, handler) {
    const listener = (event) => handler(event.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /** The agent's device is a SIP phone (desk phone, softphone): the page follows its calls. */
  get deskPhone() {
    return this.device === DESK_PHONE;
  }

  get registration() {
    return { ...this._registration };
  }

  get call() {
    return this._call ? { ...this._call } : null;
  }

  /** Call ids of the socket offers held for matching INVITEs (kept until call_ended or expiry). */
  get offerIds() {
    this._pruneOffers();
    return [...this._offers.keys()];
  }

  /** Load the agent's configuration, then register the phone and open the event stream. */
  async start() {
    let response;
    try {
      response = await fetch(this._meUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    } catch (err) {
      this._fail('network', `Cannot reach the server: ${err.message}`);
      return false;
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_err) {
      body = null;
    }
    if (!response.ok || !body || !body.sip) {
      this._fail((body && body.error) || `http_${response.status}`, (body && body.message) || response.statusText);
      return false;
    }
    this.me = body;
    this.device = body.device === DESK_PHONE ? DESK_PHONE : 'webrtc';
    this._emit('config', { me: body });
    await this._restoreCurrentCall();
    this._connectSocket();
    if (this.deskPhone) {
      this._followDeskPhone();
    } else {
      this._startUserAgent(body.sip);
      this._watchNetwork();
    }
    return true;
  }

  /** React to the browser losing and regaining its network (a reload needs nothing: the page starts over). */
  _watchNetwork() {
    if (typeof window === 'undefined' || !window.addEventListener) return;
    window.addEventListener('offline', () => this._onOffline());
    window.addEventListener('online', () => this._onOnline());
  }

  /**
   * The network is gone: close the SIP connection now rather than keep a dead one. The server then
   * takes our call back (the other party hears music on hold) and rings us again once we have
   * registered on a fresh connection, when the network returns.
   */
  _onOffline() {
    this._offline = true;
    const transport = this._ua && this._ua.transport;
    if (!transport) return;
    try {
      transport.disconnect();
    } catch (_err) {
      // already closed
    }
    const call = this._call;
    if (call && this._session && call.state === 'in_call') {
      this._emit('restoring', { call: { call_id: call.id, caller_number: call.number, caller_name: call.name } });
    }
  }

  /** The network is back: connect and register at once, not after JsSIP's and Socket.IO's growing retry delays. */
  _onOnline() {
    if (!this._offline) return;
    this._offline = false;
    const transport = this._ua && this._ua.transport;
    if (transport && !transport.isConnected() && !transport.isConnecting()) transport.connect();
    const socket = this._socket;
    if (socket && !socket.connected) {
      socket.disconnect();
      socket.connect();
    }
  }

  /** Ask the server whether it holds a call of ours (we were reloaded mid-call). */
  async _restoreCurrentCall() {
    try {
      const response = await fetch(this._currentCallUrl, { credentials: 'same-origin',
        headers: { Accept: 'application/json' } });
      if (!response.ok) return;
      const body = await response.json();
      if (body && body.call) this.restore(body.call);
    } catch (_err) {
      // no restore: a fresh page
    }
  }

  /** Stop the phone (an explicit sign-out; a page reload just drops the connections). */
  stop() {
    if (this._ua) {
      this._ua.stop();
      this._ua = null;
    }
    if (this._socket) {
      this._socket.close();
      this._socket = null;
    }
  }

  answer() {
    if (this.deskPhone) return false; // answered on the phone itself
    if (!this._session || !this._call || this._call.state !== 'ringing') return false;
    try {
      this._session.answer(ANSWER_OPTIONS);
      return true;
    } catch (err) {
      this._fail('answer_failed', err.message);
      return false;
    }
  }

  decline() {
    if (this.deskPhone) return this._call && this._call.state === 'ringing' ? this._askServer('hangup') : false;
    if (!this._session || !this._call || this._call.state !== 'ringing') return false;
    return this._terminate({ status_code: 486, reason_phrase: 'Busy Here' });
  }

  hangup() {
    if (this.deskPhone) return this._call && this._call.state !== 'ended' ? this._askServer('hangup') : false;
    if (this._lost) {
      // The server holds the call for us: end it when it rings us again (the other party is told at once).
      this._dropped = this._lost.callId;
      this._endLost('Hung up');
      return true;
    }
    if (!this._session || !this._call || this._call.state === 'ended') return false;
    if (this._offline && this._call.id) this._dropped = this._call.id;
    return this._terminate();
  }

  /**
   * Place an outbound call. `display` = {kind, token} from /api/display-numbers (the caller ID the
   * dialplan checks). Returns false when busy, not registered or the number is not dialable.
   */
  dial(number, { display = null, recordId = null } = {}) {
    const target = cleanNumber(number);
    if (!target) {
      this._fail('bad_number', 'Not a number to call');
      return false;
    }
    if (this.deskPhone) {
      this._fail('dial_failed', 'Dial on your phone');
      return false;
    }
    if (!this._ua || this._session || this._lost || this._registration.state !== 'registered') {
      this._fail('dial_failed', this._session || this._lost ? 'Already in a call' : 'The phone is not registered');
      return false;
    }
    const headers = [];
    if (display && display.kind) {
      headers.push(`${DISPLAY_HEADER}: ${display.kind}`);
      if (display.token) headers.push(`${DISPLAY_TOKEN_HEADER}: ${display.token}`);
    }
    this._connection = null;
    this._lastBytesReceived = 0;
    this._call = newCall({
      number: target,
      queueLabel: OUTBOUND_LABEL,
      direction: 'outbound',
      source: 'local',
      state: 'dialing',
      recordId: recordId || null, // click-to-dial from a Salesforce record: the Task relates to it
    });
    let session = null;
    try {
      session = this._ua.call(target, {
        ...ANSWER_OPTIONS,
        extraHeaders: headers,
        eventHandlers: { peerconnection: (e) => this._attachConnection(e.peerconnection, null) },
      });
    } catch (err) {
      this._call = null;
      this._fail('dial_failed', err.message);
      return false;
    }
    this._session = session;
    if (!this._connection && session.connection) this._attachConnection(session.connection, session);
    this._watchSession(session);
    this._emit('outgoing', { call: this.call });
    return true;
  }

  /** Mute or unmute the microphone (the local audio track); true when the call is up. */
  setMuted(muted) {
    if (!this._session || !this._call || this._call.state !== 'in_call') return false;
    if (muted) this._session.mute({ audio: true });
    else this._session.unmute({ audio: true });
    return true;
  }

  /** Put the call on hold (the other party hears music on hold) or take it off hold. */
  setHeld(held) {
    if (!this._session || !this._call || this._call.state !== 'in_call') return false;
    try {
      return held ? this._session.hold() : this._session.unhold();
    } catch (err) {
      this._fail('hold_failed', err.message);
      return false;
    }
  }

  /** Send one keypad tone (0-9 * # A-D) as an RFC 4733 telephone-event (to the consultation while one is up). */
  sendDtmf(tone) {
    const t = String(tone || '');
    const target = this._consult && this._consult.state === 'in_call' ? this._consult.session : this._session;
    if (!DTMF_TONES.test(t) || !target || !target.isEstablished()) return false;
    try {
      target.sendDTMF(t, { transportType: 'RFC2833', duration: 160, interToneGap: 80 });
    } catch (err) {
      this._fail('dtmf_failed', err.message);
      return false;
    }
    this._emit('dtmf', { call: this.call, tone: t });
    return true;
  }

  /** Blind transfer: the other party goes straight to `target` (agent name, queue number or external number). */
  transfer(target) {
    const number = cleanNumber(target);
    if (this.deskPhone) return this._serverTransfer(number);
    if (!number || !this._session || !this._call || this._call.state !== 'in_call' || this._consult) return false;
    return this._refer('blind', number, {});
  }

  /** Warm transfer, step 1: hold the other party (music on hold) and call `target`. */
  startConsult(target) {
    const number = cleanNumber(target);
    if (this.deskPhone) return this._serverConsult(number);
    if (!number || !this._session || !this._call || this._call.state !== 'in_call' || this._consult) return false;
    if (!this._call.onHold) this.setHeld(true);
    const consult = { session: null, number, state: 'dialing', cause: '', connection: null };
    this._consult = consult;
    try {
      consult.session = this._ua.call(number, {
        ...ANSWER_OPTIONS,
        eventHandlers: { peerconnection: (e) => this._attachConsultConnection(consult, e.peerconnection) },
      });
    } catch (err) {
      this._consult = null;
      this._fail('consult_failed', err.message);
      return false;
    }
    if (!consult.connection && consult.session.connection) {
      this._attachConsultConnection(consult, consult.session.connection);
    }
    consult.session.on('accepted', () => this._setConsultState(consult, 'in_call'));
    consult.session.on('confirmed', () => this._setConsultState(consult, 'in_call'));
    const done = (e) => this._onConsultEnd(consult, e);
    consult.session.on('ended', done);
    consult.session.on('failed', done);
    this._emit('consult', { consult: this.consult });
    return true;
  }

  /** Warm transfer, step 2: join the other party and the consulted one (REFER with Replaces). */
  completeConsult() {
    const consult = this._consult;
    if (this.deskPhone) return consult && consult.state !== 'ended' ? this._endServerConsult(consult, 'complete') : false;
    if (!consult || consult.state !== 'in_call' || !this._session) return false;
    return this._refer('consult', consult.number, { replaces: consult.session });
  }

  /** Warm transfer cancelled: hang up the consultation and take the other party off hold. */
  cancelConsult() {
    const consult = this._consult;
    if (!consult) return false;
    if (this.deskPhone) return this._endServerConsult(consult, 'cancel');
    try {
      consult.session.terminate();
    } catch (_err) {
      this._onConsultEnd(consult, { cause: 'Canceled' });
    }
    return true;
  }

  /** The consultation call of a warm transfer, or null. */
  get consult() {
    const c = this._consult;
    return c ? { number: c.number, state: c.state, cause: c.cause } : null;
  }

  /** Total inbound-rtp audio bytesReceived of the current (or last) call. */
  async stats() {
    const pc = this._connection;
    if (!pc || pc.connectionState === 'closed' || pc.signalingState === 'closed') return this._lastBytesReceived;
    try {
      const report = await pc.getStats();
      let total = 0;
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === 'audio') total += s.bytesReceived || 0;
      });
      this._lastBytesReceived = total;
    } catch (_err) {
      // a closing connection: keep the last value
    }
    return this._lastBytesReceived;
  }

  // --- internals -------------------------------------------------------------------------------

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _fail(code, message) {
    this._emit('error', { code, message: text(message) });
  }

  _setRegistration(state, cause = '') {
    this._registration = { state, cause: text(cause) };
    this._emit('registration', this.registration);
  }

  _startUserAgent(sip) {
    const JsSIP = this._JsSIP;
    if (!JsSIP) {
      this._setRegistration('failed', 'JsSIP is not loaded');
      this._fail('jssip_missing', 'JsSIP is not loaded');
      return;
    }
    try {
      this._ua = new JsSIP.UA({
        sockets: [new JsSIP.WebSocketInterface(sip.ws_url)],
        uri: sip.uri,
        authorization_user: sip.username,
        password: sip.password,
        display_name: sip.display_name,
        register: true,
        user_agent: 'Switchboard web phone',
      });
    } catch (err) {
      this._setRegistration('failed', err.message);
      this._fail('sip_config', err.message);
      return;
    }
    const ua = this._ua;
    ua.on('connecting', () => {
      if (this._registration.state !== 'registered') this._setRegistration('connecting');
    });
    ua.on('disconnected', (e) => this._setRegistration('disconnected', (e && e.reason) || ''));
    ua.on('registered', () => this._setRegistration('registered'));
    ua.on('unregistered', (e) => this._setRegistration('unregistered', e && e.cause));
    ua.on('registrationFailed', (e) => this._setRegistration('failed', e && e.cause));
    ua.on('newRTCSession', (e) => this._onNewSession(e));
    this._setRegistration('connecting');
    ua.start();
  }

  _connectSocket() {
    if (!this._io) {
      this._emit('socket', { state: 'disconnected', reason: 'Socket.IO client is not loaded' });
      return;
    }
    const socket = this._io(this._socketNamespace, { path: this._socketPath });
    this._socket = socket;
    this._emit('socket', { state: 'connecting', reason: '' });
    socket.on('connect', () => {
      this._emit('socket', { state: 'connected', reason: '' });
      if (this.deskPhone) this._refreshDeskPhone(); // what changed while the events were away
    });
    socket.on('disconnect', (reason) => this._emit('socket', { state: 'disconnected', reason: text(reason) }));
    socket.on('connect_error', (err) => {
      // A refusal by the server (not logged in, not an agent) is final; transport errors retry.
      const refused = !socket.active;
      this._emit('socket', { state: refused ? 'refused' : 'disconnected', reason: text(err && err.message) });
    });
    socket.on('call_offered', (data) => this._onCallOffered(data));
    socket.on('call_answered', (data) => this._onCallAnswered(data));
    socket.on('call_placed', (data) => this._onCallPlaced(data));
    socket.on('call_ended', (data) => this._onCallEnded(data));
    socket.on('call_left', (data) => this._onCallLeft(data));
    socket.on('agent_state', (data) => {
      if (!data || typeof data !== 'object') return;
      this._deskState(data);
      this._emit('agentstate', { ...data });
    });
  }

  _pruneOffers() {
    const now = Date.now();
    for (const [id, entry] of this._offers) {
      if (entry.expires < now) this._offers.delete(id);
    }
  }

  _isCurrent(callId) {
    return Boolean(this._call && callId && this._call.id === callId);
  }

  _applyOffer(data) {
    const call = this._call;
    // The server's number is normalised (E.164) and says "Hidden number" / "Anonymous" for none: never
    // the INVITE's placeholder user (Asterisk's "asterisk" for a caller without a number).
    if (typeof data.caller_number === 'string') call.number = data.caller_number;
    call.display = text(data.caller_display) || call.display || call.number;
    call.name = text(data.caller_name) || call.name;
    call.queue = text(data.queue);
    call.direction = text(data.direction) || call.direction;
    const fallback = call.direction === 'outbound' ? OUTBOUND_LABEL : call.queueLabel;
    call.queueLabel = text(data.queue_label) || text(data.queue) || fallback;
    call.offeredAt = typeof data.offered_at === 'number' ? data.offered_at : call.offeredAt;
    call.rangAt = typeof data.rang_at === 'number' ? data.rang_at : call.rangAt;
    call.source = 'switchboard';
  }

  _onCallOffered(data) {
    if (!data || typeof data !== 'object' || !data.call_id) return;
    const callId = text(data.call_id);
    // Held even after use: a queue may ring this agent again for the same call.
    this._pruneOffers();
    this._offers.set(callId, { data, expires: Date.now() + this._offerTtlMs });
    if (this._isCurrent(callId) && this._call.state !== 'ended') {
      this._applyOffer(data);
      this._emit('callupdate', { call: this.call });
    } else if (this.deskPhone && (!this._call || this._call.state === 'ended')) {
      this._serverCall(data, 'ringing'); // the desk phone rings: the server's offer is the call
      this._emit('incoming', { call: this.call });
    }
  }

  /** The server's call id for our outbound call (one call at a time: the current outbound one). */
  _onCallPlaced(data) {
    if (this.deskPhone) {
      if (data && data.call_id && (!this._call || this._call.state === 'ended')) {
        this._serverCall(data, 'dialing'); // dialled on the phone: the callee in caller_number
        this._emit('outgoing', { call: this.call });
      }
      return;
    }
    const call = this._call;
    if (!data || !call || call.direction !== 'outbound' || call.id || call.state === 'ended') return;
    call.id = text(data.call_id) || null;
    this._emit('callupdate', { call: this.call });
  }

  _onCallAnswered(data) {
    if (this.deskPhone && data && data.call_id) {
      if (this._isCurrent(text(data.call_id)) && this._call.state !== 'ended') this._answeredOnPhone(data.answered_at);
      else if (!this._call || this._call.state === 'ended') this._restoreCurrentCall(); // its offer was missed
      return;
    }
    if (!data || !this._isCurrent(text(data.call_id))) return;
    this._call.answeredAt = typeof data.answered_at === 'number' ? data.answered_at : this._call.answeredAt;
    this._emit('callupdate', { call: this.call });
  }

  _onCallEnded(data) {
    if (!data || !data.call_id) return;
    const callId = text(data.call_id);
    this._offers.delete(callId);
    if (!this._isCurrent(callId)) return;
    if (this._lost) this._endLost('Call ended'); // the other party hung up while the server held the call
    this._call.disposition = text(data.disposition);
    this._call.durationSeconds = typeof data.duration_seconds === 'number' ? data.duration_seconds : null;
    this._emit('callupdate', { call: this.call });
    if (this.deskPhone && this._call.state !== 'ended') this._finish(text(data.reason) || 'Call ended', 'remote');
  }

  /** The call went on without this agent (transferred away; or the colleague they called hung up): over here. */
  _onCallLeft(data) {
    if (!this.deskPhone || !data || !this._isCurrent(text(data.call_id)) || this._call.state === 'ended') return;
    this._finish('Call ended', 'remote');
  }

  // --- a desk phone's calls, followed from the server --------------------------------------------

  /** A SIP-phone agent: no JsSIP; show whether the phone is registered (then agent_state keeps it up to date). */
  _followDeskPhone() {
    this._setRegistration('connecting');
    this._refreshDeskPhone();
  }

  async _refreshDeskPhone() {
    try {
      const response = await fetch(this._deviceUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      const body = await response.json();
      if (response.ok) this._deskState(body);
      else this._setRegistration('unregistered', text(body && body.message));
    } catch (err) {
      this._setRegistration('unregistered', `Cannot reach the server: ${err.message}`);
    }
  }

  /** The phone's registration from the server's view of the agent (agent_state, /api/device). */
  _deskState(view) {
    if (!this.deskPhone || !view || !('registered' in view)) return;
    const state = view.registered ? 'registered' : 'unregistered';
    if (state !== this._registration.state) this._setRegistration(state);
  }

  /** A call known only from the server's events (the desk phone carries it). */
  _serverCall(data, state) {
    this._session = null;
    this._connection = null;
    this._lastBytesReceived = 0;
    this._call = newCall({ id: text(data.call_id), source: 'switchboard', state });
    this._applyOffer(data);
    return this._call;
  }

  _answeredOnPhone(answeredAt, restored = false) {
    this._call.state = 'in_call';
    this._call.answeredAt = typeof answeredAt === 'number' ? answeredAt : Date.now() / 1000;
    if (restored) this._call.reconnected = true;
    this._emit('accepted', { call: this.call });
  }

  async _post(path, data = {}) {
    try {
      const response = await fetch(path, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': this._csrf },
        body: JSON.stringify(data),
      });
      let body = null;
      try {
        body = await response.json();
      } catch (_err) {
        body = null;
      }
      return { ok: response.ok, body: body || {} };
    } catch (err) {
      return { ok: false, body: { error: 'network', message: `Cannot reach the server: ${err.message}` } };
    }
  }

  /** Hang up (or decline) the desk phone's call in Asterisk; the end comes back as call_ended. */
  _askServer(action) {
    const call = this._call;
    this._post(`/api/calls/${encodeURIComponent(call.id)}/${action}`).then(({ ok, body }) => {
      if (ok || !this._isCurrent(call.id) || this._call.state === 'ended') return;
      if (body.error === 'not_on_call') this._finish('Call ended', 'local'); // it was over already
      else this._fail('terminate_failed', body.message || body.error);
    });
    return true;
  }

  /** Blind transfer of the desk phone's call by the server (the phone's own transfer key works too). */
  _serverTransfer(number) {
    const call = this._call;
    if (!number || !call || call.state !== 'in_call') return false;
    const report = (state, cause = '') => this._emit('transfer', { kind: 'blind', state, target: number, cause });
    report('requested');
    this._post(`/api/calls/${encodeURIComponent(call.id)}/transfer`, { target: number }).then(({ ok, body }) => {
      if (!ok) {
        report('failed', body.message || body.error);
        return;
      }
      report('accepted');
      if (this._isCurrent(call.id) && this._call.state !== 'ended') this._finish('Transferred', 'local');
    });
    return true;
  }

  /**
   * Consult transfer of the desk phone's call by the server: Asterisk puts the other party on hold and
   * the phone talks to `number`; the page follows the consultation's state until it is over.
   */
  _serverConsult(number) {
    const call = this._call;
    if (!number || !call || call.state !== 'in_call' || this._consult) return false;
    const consult = { session: null, number, state: 'dialing', cause: '', connection: null, callId: call.id, timer: null };
    this._consult = consult;
    this._emit('consult', { consult: this.consult });
    this._post(this._consultUrl(call.id), { target: number }).then(({ ok, body }) => {
      if (!ok) {
        this._onConsultEnd(consult, { cause: body.message || body.error });
        this._fail('consult_failed', body.message || body.error);
        return;
      }
      this._followServerConsult(consult);
    });
    return true;
  }

  _consultUrl(callId) {
    return `/api/calls/${encodeURIComponent(callId)}/consult`;
  }

  /** Ask the server how the consultation goes (ringing, answered, over) once a second while it lasts. */
  _followServerConsult(consult) {
    const poll = async () => {
      consult.timer = null;
      if (this._consult !== consult || consult.state === 'ended') return;
      try {
        const response = await fetch(this._consultUrl(consult.callId), {
          credentials: 'same-origin', headers: { Accept: 'application/json' } });
        const body = await response.json();
        if (this._consult !== consult) return;
        if (!response.ok || !body.state) {
          this._onConsultEnd(consult, { cause: 'Ended' });
          return;
        }
        this._setConsultState(consult, body.state);
      } catch (_err) {
        // a network hiccup: ask again
      }
      if (this._consult === consult) consult.timer = setTimeout(poll, CONSULT_POLL_MS);
    };
    consult.timer = setTimeout(poll, CONSULT_POLL_MS);
  }

  /** Complete (the other party joins the consulted one; this agent leaves) or cancel the server's consultation. */
  _endServerConsult(consult, action) {
    const call = this._call;
    this._post(`${this._consultUrl(consult.callId)}/${action}`).then(({ ok, body }) => {
      if (!ok) {
        if (body.error === 'not_consulting') this._onConsultEnd(consult, { cause: 'Ended' });
        else this._fail('consult_failed', body.message || body.error);
        return;
      }
      if (consult.timer) clearTimeout(consult.timer);
      this._onConsultEnd(consult, { cause: action === 'complete' ? 'Transferred' : 'Canceled' });
      if (action !== 'complete') return;
      this._emit('transfer', { kind: 'consult', state: 'accepted', target: consult.number, cause: '' });
      if (call && this._isCurrent(call.id) && this._call.state !== 'ended') this._finish('Transferred', 'local');
    });
    return true;
  }

  _onNewSession({ originator, session, request }) {
    if (originator !== 'remote') return;
    const callId = text(request && request.getHeader(CALL_ID_HEADER)).trim() || null;
    const reconnect = Boolean(request && request.getHeader(RECONNECT_HEADER));
    if (reconnect && callId && callId === this._dropped) {
      this._dropped = null;
      // The agent hung up this call while it was being taken back: decline its ring with 603, which the
      // dialplan's reconnect loop reads as the agent's hang-up (answering and hanging up at once raced with
      // the bridge: a BYE before it formed looked like a lost leg, and the call came back).
      session.terminate({ status_code: 603, reason_phrase: 'Decline' });
      return;
    }
    if (this._lost) {
      if (!reconnect) {
        session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
        return;
      }
      if (this._isCurrent(callId)) {
        this._resume(session); // our call, rung again
        return;
      }
      // A consult transfer joined our call to the customer's: it comes back under the customer's call id.
      this._stopWaiting();
    }
    if (this._session) {
      if (reconnect && this._isCurrent(callId) && this._call.state === 'in_call') {
        this._resume(session); // our call, rung again after our SIP connection was lost
        return;
      }
      if (!reconnect || this._call.state !== 'ringing') {
        // One call at a time: a second INVITE while busy is refused.
        session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
        return;
      }
      // A call the server kept for us comes back while another one rings: the kept one wins.
      const ringing = this._session;
      this._session = null;
      clearInterval(this._statsTimer);
      try {
        ringing.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      } catch (_err) {
        // it stopped ringing meanwhile
      }
    }
    const identity = session.remote_identity;
    this._session = session;
    this._connection = null;
    this._lastBytesReceived = 0;
    this._call = newCall({
      id: callId,
      number: text(identity && identity.uri && identity.uri.user),
      name: text(identity && identity.display_name),
    });
    const offer = callId ? this._offers.get(callId) : null;
    if (offer) this._applyOffer(offer.data);
    // After a page reload the server re-rings this phone for a call of ours it kept: take it back at
    // once, with the details it kept for us (the timer runs from the first answer) when it is that call.
    const restored = this._restored;
    if (reconnect) {
      if (restored && callId && restored.call_id === callId) {
        this._applyOffer(restored);
        this._call.answeredAt = restored.answered_at;
        this._restored = null;
      }
      this._call.reconnected = true;
    }

    session.on('peerconnection', (e) => this._attachConnection(e.peerconnection, session));
    this._watchSession(session);
    this._emit('incoming', { call: this.call });
    if (this._call.reconnected) this.answer();
    else if (callId && !offer) setTimeout(() => this._fetchOffer(callId), OFFER_FETCH_DELAY_MS);
  }

  /** The socket's call_offered did not come (a socket that joined late): ask the server for it. */
  async _fetchOffer(callId) {
    if (!this._isCurrent(callId) || this._call.source === 'switchboard') return;
    try {
      const response = await fetch(`/api/calls/${encodeURIComponent(callId)}/offer`,
        { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (response.ok) this._onCallOffered(await response.json());
    } catch (_err) {
      // the INVITE's caller stays on screen
    }
  }

  /**
   * The server rings us again for the call we are in (our SIP connection was lost, so it took the
   * call back): answer at once on a new session and keep the call as it is (id, caller, timer).
   */
  _resume(session) {
    const old = this._session;
    this._stopWaiting();
    this._session = session;
    this._resuming = session;
    this._connection = null;
    this._lastBytesReceived = 0;
    Object.assign(this._call, { reconnected: true, muted: false, onHold: false });
    session.on('peerconnection', (e) => this._attachConnection(e.peerconnection, session));
    this._watchSession(session);
    try {
      if (old) old.terminate(); // the server already hung that leg up; this only frees its media here
    } catch (_err) {
      // already over
    }
    this._emit('media', { call: this.call });
    try {
      session.answer(ANSWER_OPTIONS);
    } catch (err) {
      this._fail('answer_failed', err.message);
    }
  }

  /** A call the server kept for this agent across a page reload (from /api/calls/current). */
  restore(call) {
    if (!call || typeof call !== 'object' || !call.call_id) return;
    if (this.deskPhone) {
      // The phone still carries it: show it as it is, the timer from its answer.
      if (this._call && this._call.state !== 'ended') return;
      this._serverCall(call, 'ringing');
      this._emit('incoming', { call: this.call });
      this._answeredOnPhone(call.answered_at, true);
      return;
    }
    this._restored = call;
    this._emit('restoring', { call });
  }

  _watchSession(session) {
    const up = () => {
      if (this._session !== session || (this._call.state === 'in_call' && this._resuming !== session)) return;
      this._resuming = null;
      this._call.state = 'in_call';
      // A closed RTCPeerConnection reports nothing: sample while the call is up.
      clearInterval(this._statsTimer);
      this._statsTimer = setInterval(() => this.stats(), 1000);
      this._emit('accepted', { call: this.call });
    };
    session.on('accepted', up);
    session.on('confirmed', up);
    const media = (field, value) => (e) => {
      if (this._session !== session || (e && e.originator === 'remote')) return;
      this._call[field] = value;
      this._emit('media', { call: this.call });
    };
    session.on('muted', media('muted', true));
    session.on('unmuted', media('muted', false));
    session.on('hold', media('onHold', true));
    session.on('unhold', media('onHold', false));
    const finish = (e) => this._onSessionEnd(session, e);
    session.on('ended', finish);
    session.on('failed', finish);
  }

  _attachConnection(pc, session) {
    if (session && this._session && this._session !== session) return;
    if (this._connection === pc) return;
    this._connection = pc;
    pc.addEventListener('track', (e) => {
      if (e.track.kind !== 'audio' || this._consultAudible()) return;
      this._play((e.streams && e.streams[0]) || new MediaStream([e.track]));
    });
  }

  _attachConsultConnection(consult, pc) {
    if (consult.connection === pc) return;
    consult.connection = pc;
    pc.addEventListener('track', (e) => {
      if (e.track.kind !== 'audio' || this._consult !== consult) return;
      this._play((e.streams && e.streams[0]) || new MediaStream([e.track]));
    });
  }

  _consultAudible() {
    return Boolean(this._consult && this._consult.connection);
  }

  _play(stream) {
    if (!this._audio) return;
    this._audio.srcObject = stream;
    const playing = this._audio.play();
    if (playing && playing.catch) playing.catch(() => {}); // autoplay policy: the answer click allows it
  }

  /** Play the main call's audio again (after a consultation ended). */
  _playMain() {
    const pc = this._connection;
    if (!pc || pc.signalingState === 'closed' || !this._session) return;
    const tracks = pc.getReceivers().map((r) => r.track).filter((t) => t && t.kind === 'audio');
    if (tracks.length) this._play(new MediaStream(tracks));
  }

  _setConsultState(consult, state, cause = '') {
    if (consult.state === state) return;
    consult.state = state;
    consult.cause = text(cause);
    this._emit('consult', { consult: { number: consult.number, state, cause: consult.cause } });
  }

  _onConsultEnd(consult, e) {
    if (consult.state === 'ended') return;
    if (this._consult === consult) this._consult = null;
    this._setConsultState(consult, 'ended', e && e.cause);
    if (this._session && this._call && this._call.state === 'in_call' && !this._transferring) {
      this._playMain();
      if (this._call.onHold) this.setHeld(false);
    }
  }

  _refer(kind, target, options) {
    const session = this._session;
    const report = (state, cause = '') => this._emit('transfer', { kind, state, target, cause: text(cause) });
    this._transferring = true;
    try {
      session.refer(target, {
        ...options,
        eventHandlers: {
          requestFailed: (e) => {
            this._transferring = false;
            report('failed', e && e.cause);
          },
          accepted: () => {
            report('accepted');
            // Asterisk ends our legs itself; make sure nothing lingers if it does not.
            setTimeout(() => {
              if (this._session === session) this._terminate();
              if (kind === 'consult' && this._consult) this.cancelConsult();
            }, 3000);
          },
          failed: (e) => {
            this._transferring = false;
            report('failed', e && e.cause);
          },
        },
      });
    } catch (err) {
      this._transferring = false;
      report('failed', err.message);
      return false;
    }
    report('requested');
    return true;
  }

  _onSessionEnd(session, e) {
    if (this._session !== session) return;
    clearInterval(this._statsTimer);
    this._statsTimer = null;
    this._session = null;
    if (this._call.state === 'in_call' && this._call.id && !this._transferring && takenBack(e)) {
      this._waitForReconnect();
      return;
    }
    this._transferring = false;
    this._finish(text(e && e.cause), text(e && e.originator));
  }

  /** The server ended our leg as lost and takes the call back: keep the call on screen until it rings us. */
  _waitForReconnect() {
    const call = this._call;
    this._lost = { callId: call.id, timer: setTimeout(() => this._endLost('Connection lost'), RECONNECT_WAIT_MS) };
    this._emit('restoring', { call: { call_id: call.id, caller_number: call.number, caller_name: call.name } });
  }

  _stopWaiting() {
    if (!this._lost) return;
    clearTimeout(this._lost.timer);
    this._lost = null;
  }

  /** The call taken back did not come back (or was hung up meanwhile). */
  _endLost(cause) {
    if (!this._lost) return;
    this._stopWaiting();
    this._finish(cause, 'local');
  }

  _finish(cause, originator) {
    this._call.state = 'ended';
    this._call.cause = cause;
    if (this._audio && !this._consultAudible()) this._audio.srcObject = null;
    this._emit('ended', { call: this.call, cause, originator });
  }

  _terminate(options) {
    try {
      this._session.terminate(options);
      return true;
    } catch (err) {
      this._fail('terminate_failed', err.message);
      return false;
    }
  }
}
