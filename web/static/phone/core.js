// Switchboard phone core: one JsSIP user agent plus the /phone Socket.IO event stream.
//
// No DOM work here except playing remote audio, so that every shell (the standalone page,
// later Salesforce Open CTI) reuses it. A shell listens to these events (CustomEvent.detail):
//   registration  {state: 'connecting'|'registered'|'unregistered'|'disconnected'|'failed', cause}
//                 ('disconnected': the SIP WebSocket is down and JsSIP retries by itself)
//   socket        {state: 'connecting'|'connected'|'disconnected'|'refused', reason}
//   incoming      {call}             a call starts ringing (caller details already known)
//   callupdate    {call}             call details changed (late socket offer, answered/ended info)
//   accepted      {call}             the agent answered; media is being set up
//   ended         {call, cause, originator}
//   agentstate    {agent, device_state, paused, queues}
//   error         {code, message}
// `call` is a plain snapshot: {id, number, name, queue, queueLabel, direction, source, state,
// offeredAt, answeredAt, disposition, durationSeconds, cause}; state is 'ringing'|'in_call'|'ended'.

export const CALL_ID_HEADER = 'X-Switchboard-Call-Id';
export const RECONNECT_HEADER = 'X-Switchboard-Reconnect';
export const DIRECT_LABEL = 'Direct';

const ANSWER_OPTIONS = Object.freeze({
  mediaConstraints: { audio: true, video: false },
  // JsSIP's default STUN server is unreachable offline and stalls ICE gathering.
  pcConfig: { iceServers: [] },
});

function text(value) {
  return value === undefined || value === null ? '' : String(value);
}

export class PhoneCore extends EventTarget {
  constructor({
    JsSIP = globalThis.JsSIP,
    io = globalThis.io,
    meUrl = '/api/me',
    currentCallUrl = '/api/calls/current',
    socketNamespace = '/phone',
    socketPath = '/socket.io',
    audioElement = null,
    offerTtlMs = 120000,
  } = {}) {
    super();
    this._JsSIP = JsSIP;
    this._io = io;
    this._meUrl = meUrl;
    this._currentCallUrl = currentCallUrl;
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
    this.me = null;
  }

  /** Subscribe to an event; returns a function that unsubscribes. */
  on(type, handler) {
    const listener = (event) => handler(event.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
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
    this._emit('config', { me: body });
    await this._restoreCurrentCall();
    this._connectSocket();
    this._startUserAgent(body.sip);
    return true;
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
    if (!this._session || !this._call || this._call.state !== 'ringing') return false;
    return this._terminate({ status_code: 486, reason_phrase: 'Busy Here' });
  }

  hangup() {
    if (!this._session || !this._call || this._call.state === 'ended') return false;
    return this._terminate();
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
    socket.on('connect', () => this._emit('socket', { state: 'connected', reason: '' }));
    socket.on('disconnect', (reason) => this._emit('socket', { state: 'disconnected', reason: text(reason) }));
    socket.on('connect_error', (err) => {
      // A refusal by the server (not logged in, not an agent) is final; transport errors retry.
      const refused = !socket.active;
      this._emit('socket', { state: refused ? 'refused' : 'disconnected', reason: text(err && err.message) });
    });
    socket.on('call_offered', (data) => this._onCallOffered(data));
    socket.on('call_answered', (data) => this._onCallAnswered(data));
    socket.on('call_ended', (data) => this._onCallEnded(data));
    socket.on('agent_state', (data) => {
      if (data && typeof data === 'object') this._emit('agentstate', { ...data });
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
    call.number = text(data.caller_number) || call.number;
    call.name = text(data.caller_name) || call.name;
    call.queue = text(data.queue);
    call.queueLabel = text(data.queue_label) || text(data.queue) || call.queueLabel;
    call.direction = text(data.direction) || call.direction;
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
    }
  }

  _onCallAnswered(data) {
    if (!data || !this._isCurrent(text(data.call_id))) return;
    this._call.answeredAt = typeof data.answered_at === 'number' ? data.answered_at : this._call.answeredAt;
    this._emit('callupdate', { call: this.call });
  }

  _onCallEnded(data) {
    if (!data || !data.call_id) return;
    const callId = text(data.call_id);
    this._offers.delete(callId);
    if (!this._isCurrent(callId)) return;
    this._call.disposition = text(data.disposition);
    this._call.durationSeconds = typeof data.duration_seconds === 'number' ? data.duration_seconds : null;
    this._emit('callupdate', { call: this.call });
  }

  _onNewSession({ originator, session, request }) {
    if (originator !== 'remote') return;
    if (this._session) {
      // One call at a time: a second INVITE while busy is refused.
      session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      return;
    }
    const callId = text(request && request.getHeader(CALL_ID_HEADER)).trim() || null;
    const identity = session.remote_identity;
    this._session = session;
    this._connection = null;
    this._lastBytesReceived = 0;
    this._call = {
      id: callId,
      number: text(identity && identity.uri && identity.uri.user),
      name: text(identity && identity.display_name),
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
    };
    const offer = callId ? this._offers.get(callId) : null;
    if (offer) this._applyOffer(offer.data);
    // After a page reload the server re-rings this phone for the call it kept: take it back at once.
    const restored = this._restored;
    const reconnect = Boolean(request && request.getHeader(RECONNECT_HEADER));
    if (restored && reconnect && callId && restored.call_id === callId) {
      this._applyOffer(restored);
      this._call.answeredAt = restored.answered_at;
      this._call.reconnected = true;
      this._restored = null;
    }

    session.on('peerconnection', (e) => this._attachConnection(e.peerconnection));
    session.on('accepted', () => {
      if (this._session !== session) return;
      this._call.state = 'in_call';
      // A closed RTCPeerConnection reports nothing: sample while the call is up.
      this._statsTimer = setInterval(() => this.stats(), 1000);
      this._emit('accepted', { call: this.call });
    });
    const finish = (e) => this._onSessionEnd(session, e);
    session.on('ended', finish);
    session.on('failed', finish);
    this._emit('incoming', { call: this.call });
    if (this._call.reconnected) this.answer();
  }

  /** A call the server kept for this agent across a page reload (from /api/calls/current). */
  restore(call) {
    if (!call || typeof call !== 'object' || !call.call_id) return;
    this._restored = call;
    this._emit('restoring', { call });
  }

  _attachConnection(pc) {
    this._connection = pc;
    pc.addEventListener('track', (e) => {
      if (e.track.kind !== 'audio' || !this._audio) return;
      this._audio.srcObject = (e.streams && e.streams[0]) || new MediaStream([e.track]);
      const playing = this._audio.play();
      if (playing && playing.catch) playing.catch(() => {}); // autoplay policy: the answer click allows it
    });
  }

  _onSessionEnd(session, e) {
    if (this._session !== session) return;
    clearInterval(this._statsTimer);
    this._statsTimer = null;
    this._session = null;
    this._call.state = 'ended';
    this._call.cause = text(e && e.cause);
    if (this._audio) this._audio.srcObject = null;
    this._emit('ended', { call: this.call, cause: this._call.cause, originator: text(e && e.originator) });
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
