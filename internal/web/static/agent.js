// The agent softphone page. It speaks agent protocol v1 (internal/softphone)
// over one WebSocket, keeps one RTCPeerConnection per WebSocket session (set
// up right after `welcome`, so a call connects the moment it is accepted),
// and shows the agent's state, the ringing call, the live call (with the PCI
// pause of its recording) and wrap-up, and the agent's recent recorded calls
// (GET /api/v1/recordings), refreshed when a call and its wrap-up end.
// Everything on screen is text set with textContent: nothing from the server
// is parsed as HTML.
//
// The ticket panel (#ticket-panel) is shown while a call rings, is live or is
// wrapped up. It lists the caller's open tickets from the ring and call
// messages, each with a button that attaches this call to it (POST
// /api/v1/tickets/{number}/calls {call_id}); a search box (a ticket number
// opens that ticket, GET /api/v1/tickets/{number}; a phone number or a serial
// searches, GET /api/v1/tickets?phone= or ?serial=) whose results can be
// attached too; and a form that opens a new ticket with this call (POST
// /api/v1/tickets). A call attached to nothing gets a ticket of its own when
// wrap-up ends (the server does that). In wrap-up, when the call's queue has
// disposition codes (call.dispositions), #wrapup-disposition offers those and
// Done stays disabled until one is picked.
//
// Element ids of the ticket panel (tests rely on them):
//   #ticket-panel          the panel; hidden without a ringing, live or wrap-up call
//   #ticket-auto           the hint that an unattached call gets a ticket of its own
//   #ticket-attached       "This call is attached to T-000123." once attached
//   #ticket-error          the last failed ticket request, with the server's reason
//   #ticket-list           the caller's open tickets; #ticket-none when there are none
//   #ticket-search-form, #ticket-search, #ticket-search-go   the search box
//   #ticket-results        the search results; #ticket-results-empty when none
//   #ticket-new-open       opens the form #ticket-new: #ticket-new-subject,
//                          #ticket-new-note, #ticket-new-status, #ticket-new-create,
//                          #ticket-new-cancel
//   Each ticket is li.ticket-item[data-number="T-000123"] (data-attached="true"
//   once this call is attached) with .ticket-number, .ticket-status,
//   .ticket-subject, .ticket-note, .ticket-missed (a badge, for a ticket a
//   missed call left) and button.ticket-attach.
//   #wrapup-disposition    the disposition; #wrapup-disposition-hint says one is
//                          needed; #wrapup-done is disabled until then
'use strict';

(function () {
  const I18N = window.HotlineI18n;
  const t = I18N.t;
  const $ = (id) => document.getElementById(id);
  const query = new URLSearchParams(location.search);

  const PROTOCOL = 1;
  const PING_MS = 3000;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const GATHER_WAIT_MS = 1000;
  // The server closes a page's WebSocket with this code when the same agent
  // connects from another page (a reload or a second tab).
  const CLOSE_REPLACED = 4000;
  // Reasons the server sets by itself; the agent does not pick them.
  const AUTO_REASONS = ['missed_call', 'disconnected', 'audio'];
  // Audio trouble: a peer connection not connected this long after its
  // offer, or one that failed, is made again AUDIO_RETRIES times, waiting
  // AUDIO_BACKOFF_MS, then twice as long each time; then the page gives up
  // and makes the agent not ready "audio". ?audio_connect_ms= and
  // ?audio_backoff_ms= shorten both (tests).
  const AUDIO_RETRIES = 4;
  const AUDIO_CONNECT_MS = Number(query.get('audio_connect_ms')) || 10000;
  const AUDIO_BACKOFF_MS = Number(query.get('audio_backoff_ms')) || 1000;
  // The recent calls panel lists this many recordings.
  const RECENT_LIMIT = 10;
  // The queue strip and "my day" are read again this often.
  const OVERVIEW_MS = 5000;
  // Notes written during a call are kept under this sessionStorage prefix.
  const NOTE_KEY = 'hotline-call-note-';
  // A recording still being written when the list loads is looked at again
  // after RECENT_RETRY_MS, at most RECENT_RETRIES times.
  const RECENT_RETRY_MS = 5000;
  const RECENT_RETRIES = 3;
  // The disposition choices of a queue that has no codes of its own.
  const DEFAULT_DISPOSITIONS = ['resolved', 'follow_up', 'escalated', 'wrong_number', 'other'];
  // A ticket search shows at most this many tickets.
  const TICKET_SEARCH_LIMIT = 10;

  const app = {
    csrf: '',
    username: '',
    leaving: false,
    ws: null,
    backoff: 0,
    reconnectTimer: null,
    pingTimer: null,
    pc: null,
    pcGen: 0,
    iceServers: [],
    mic: null,
    micError: null,
    state: 'signed_out',
    reason: '',
    since: Date.now(),
    reasons: [],
    reasonLabels: {}, // reason → {language: text}, from welcome
    noQueue: false, // the user is a member of no queue (welcome.no_queue)
    overview: null, // the last GET /api/v1/agent/overview answer
    targets: { queue: [], agent: [] }, // transfer targets from welcome
    consultOn: false, // the server offers consultations (welcome.consult)
    consult: null, // the consultation under way (the last consultation message); null: none
    // audio trouble (audioTrouble): retries made, their timers, whether the
    // page gave up, and the server's softphone address from its answer
    media: { tries: 0, timer: 0, watch: 0, gaveUp: false, addr: '' },
    ring: null,
    ringDeadline: 0,
    call: null,
    callSince: 0,
    heldSince: 0, // when the caller was put on hold; 0: not on hold
    wrapMs: 0, // the call's queue's wrap-up time, from its call messages
    holdWarnMs: 60000,
    wrapCallId: '',
    muted: false,
    dtmf: '',
    message: null, // {el, key, params}: error or notice on screen, redrawn on a language switch
    audio: null, // AudioContext, made on the first click (autoplay rules)
    ringer: null, // the ring sound while it plays
    title: document.title,
    recent: [], // the recent recordings on screen
    recentGen: 0, // generation of the last load; older answers are dropped
    recentTimer: null,
    recentTries: 0,
    recentStale: false, // a newer list waits for the playing recording to stop
    tk: newTicketContext(''), // the ticket panel's call (see newTicketContext)
    dispKey: null, // the call and the disposition codes #wrapup-disposition shows
    dispLang: '', // the language of its texts
  };

  // newTicketContext is what the ticket panel knows about one call.
  function newTicketContext(callId) {
    return {
      callId, // the call to attach: ringing, live or in wrap-up
      from: '',
      queue: '',
      vars: {},
      tickets: [], // the caller's open tickets (ticket views, see ticketView)
      local: {}, // ticket views updated by this page's own requests, by number
      results: null, // the last search's ticket views; null: no search yet
      attached: [], // numbers of the tickets this call was attached to here
      dispositions: [], // the queue's wrap-up codes
      error: null, // {m}: the last failed request, redrawn on a language switch
      searchGen: 0,
    };
  }

  // ---- small helpers ----------------------------------------------------

  function show(el, on) { el.hidden = !on; }

  function setText(id, text) { $(id).textContent = text === undefined || text === null || text === '' ? t('none') : String(text); }

  // say puts one line on screen: an error (red) or a notice; null clears both.
  function say(kind, key, params) {
    const err = $('error');
    const note = $('notice');
    show(err, false);
    show(note, false);
    app.message = null;
    if (!key) return;
    const el = kind === 'error' ? err : note;
    app.message = { el, key, params };
    el.textContent = t(key, params);
    show(el, true);
  }

  function norm(code) { return String(code || '').trim().toLowerCase().replace(/[\s-]+/g, '_'); }

  function reasonText(code) {
    const own = labelText(app.reasonLabels[code]);
    if (own) return own;
    const k = 'reason_' + norm(code);
    return I18N.has(k) ? t(k) : String(code || '');
  }

  // labelText is a {language: text} label in the page's language (""
  // holds a text for every language), else in English, else any; null
  // when there is none.
  function labelText(label) {
    if (!label || typeof label !== 'object') return null;
    for (const k of [I18N.lang(), '', 'en']) {
      if (typeof label[k] === 'string') return label[k];
    }
    const any = Object.values(label).find((v) => typeof v === 'string');
    return any === undefined ? null : any;
  }

  function languageText(code) {
    const k = 'lang_' + norm(code);
    return I18N.has(k) ? t(k) : (code || '');
  }

  function parseTime(v) {
    let ms = NaN;
    if (typeof v === 'number') ms = v < 1e12 ? v * 1000 : v;
    else if (typeof v === 'string' && v) ms = Date.parse(v);
    if (!Number.isFinite(ms)) return Date.now();
    return Math.min(ms, Date.now()); // a server clock ahead of ours never shows a negative timer
  }

  function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h > 0 ? h + ':' + String(m).padStart(2, '0') + ':' + ss : m + ':' + ss;
  }

  // ---- HTTP ---------------------------------------------------------------

  function toLogin() {
    app.leaving = true;
    location.replace('/login?next=' + encodeURIComponent(location.pathname + location.search));
  }

  // loadMe reads the session; false when there is none (the page is leaving).
  async function loadMe() {
    const resp = await fetch('/api/v1/me', { credentials: 'same-origin', cache: 'no-store' });
    if (resp.status === 401) {
      toLogin();
      return false;
    }
    if (!resp.ok) throw new Error('HTTP ' + resp.status);
    const me = await resp.json();
    app.csrf = me.csrf || '';
    app.username = me.username || me.id || '';
    $('agent-name').textContent = me.name || me.id || '';
    show($('nav-supervisor'), me.role === 'supervisor' || me.role === 'admin');
    return true;
  }

  async function logout() {
    app.leaving = true;
    if (app.ws) app.ws.close(1000, 'sign out');
    try {
      await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': app.csrf } });
    } catch (e) { /* going to the sign-in page anyway */ }
    location.assign('/login');
  }

  // ---- WebSocket ----------------------------------------------------------

  function setConn(key, up) {
    const el = $('conn');
    el.dataset.i18n = key;
    el.textContent = t(key);
    el.classList.toggle('conn-up', up);
    el.classList.toggle('conn-down', !up);
  }

  function send(msg) {
    const ws = app.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      say('error', 'conn_down');
      return false;
    }
    ws.send(JSON.stringify(Object.assign({ v: PROTOCOL }, msg)));
    return true;
  }

  function connect() {
    clearTimeout(app.reconnectTimer);
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/agent/ws';
    const ws = new WebSocket(url);
    app.ws = ws;
    ws.onopen = () => {
      if (app.ws !== ws) return;
      setConn('conn_up', true);
      send({ type: 'hello' });
      clearInterval(app.pingTimer);
      app.pingTimer = setInterval(() => send({ type: 'ping', t: Date.now() }), PING_MS);
    };
    ws.onmessage = (ev) => {
      if (app.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        console.warn('hotline: not JSON from the server', e);
        return;
      }
      handle(msg);
    };
    ws.onclose = (ev) => {
      if (app.ws !== ws) return;
      clearInterval(app.pingTimer);
      app.ws = null;
      if (app.leaving) return;
      if (ev.code === CLOSE_REPLACED) {
        // The agent opened the page elsewhere; two pages must not fight over
        // the agent, so this one stops until the agent asks for it back.
        setConn('conn_replaced', false);
        say('error', 'err_replaced');
        stopRinging();
        if (app.pc) app.pc.close();
        app.pc = null;
        return;
      }
      setConn('conn_down', false);
      scheduleReconnect();
    };
  }

  // scheduleReconnect tries again with exponential backoff and jitter; a
  // session that expired meanwhile sends the agent to the sign-in page.
  function scheduleReconnect() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, app.backoff));
    app.backoff++;
    const delay = base / 2 + Math.random() * base / 2;
    app.reconnectTimer = setTimeout(async () => {
      try {
        if (!(await loadMe())) return;
      } catch (e) {
        scheduleReconnect();
        return;
      }
      connect();
    }, delay);
  }

  // ---- messages from the server -------------------------------------------

  function handle(msg) {
    if (msg.v !== PROTOCOL) {
      say('error', 'err_version');
      return;
    }
    switch (msg.type) {
      case 'welcome': return onWelcome(msg);
      case 'state': return setState(msg.state, msg.reason, msg.since);
      case 'ring': return onRing(msg);
      case 'ring_cancel': return onRingCancel(msg);
      case 'call': return onCall(msg);
      case 'consultation': return onConsultation(msg);
      case 'webrtc_answer': return onAnswer(msg);
      case 'ice': return onRemoteIce(msg);
      case 'error': return onError(msg);
      case 'pong': return undefined;
      default:
        console.warn('hotline: unknown message type', msg.type);
        return undefined;
    }
  }

  function onWelcome(msg) {
    app.backoff = 0;
    if (msg.agent && msg.agent.name) $('agent-name').textContent = msg.agent.name;
    app.noQueue = msg.no_queue === true;
    app.reasonLabels = msg.reason_labels && typeof msg.reason_labels === 'object' ? msg.reason_labels : {};
    setReasons(msg.reasons || []);
    setTargets(msg.queues, msg.agents);
    app.consultOn = msg.consult === true;
    app.consult = msg.consultation && msg.consultation.call_id ? msg.consultation : null;
    drawConsult();
    if (msg.call && msg.call.call_id && msg.call.status !== 'ended') {
      onCall(msg.call); // a reloaded page re-attaches to its live call
      // Its microphone is live again: the recording's mute mark ends.
      if (app.call && app.call.recording) send({ type: 'mute', call_id: app.call.call_id, on: false });
    } else {
      endCallView();
    }
    setState(msg.state, msg.reason, msg.since);
    if (msg.ring && msg.ring.call_id) onRing(msg.ring); // reloaded while ringing: ring again
    app.iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
    startPeer();
  }

  function setReasons(list) {
    app.reasons = list.map((r) => (typeof r === 'object' && r !== null ? (r.code || r.id || r.name || '') : String(r)))
      .filter((r) => r && !AUTO_REASONS.includes(norm(r)));
    drawReasons();
  }

  function drawReasons() {
    const sel = $('reason');
    const keep = sel.value;
    sel.textContent = '';
    const pick = document.createElement('option');
    pick.value = '';
    pick.textContent = t('reason_pick');
    sel.appendChild(pick);
    for (const r of app.reasons) {
      const o = document.createElement('option');
      o.value = r;
      o.textContent = reasonText(r);
      sel.appendChild(o);
    }
    sel.value = app.reasons.includes(keep) ? keep : '';
    drawNotReady();
  }

  // setTargets keeps the queues and agents a call may be transferred to,
  // from welcome: the queues' names, and the other agents' ids, used until
  // the overview's agents (with their states) arrive.
  function setTargets(queues, agents) {
    const list = (v) => (Array.isArray(v) ? v.map(String).filter((x) => x) : []);
    app.targets = { queue: list(queues), agent: list(agents) };
    drawTargets();
  }

  // colleagues is the transfer list's agents: GET /api/v1/agent/overview's
  // agents (signed in and attached, ready first, each with their state),
  // else welcome's ids without a state.
  function colleagues() {
    const o = app.overview;
    if (o && Array.isArray(o.agents)) {
      return o.agents.filter((a) => a && a.agent).map((a) => ({ id: String(a.agent), state: String(a.state || ''), reason: String(a.reason || '') }));
    }
    return app.targets.agent.map((id) => ({ id, state: '', reason: '' }));
  }

  // colleagueState is an agent's state as the transfer list says it.
  function colleagueState(a) {
    if (a.state === 'not_ready' && a.reason) return t('transfer_not_ready_reason', { r: reasonText(a.reason) });
    const k = 'state_' + norm(a.state);
    return a.state && I18N.has(k) ? t(k) : a.state;
  }

  // drawTargets fills the transfer list with the queues or the agents
  // (by the kind chosen), keeping the pick while it is still listed.
  function drawTargets() {
    const sel = $('transfer-target');
    const keep = sel.value;
    const kind = transferKind();
    const items = kind === 'agent'
      ? colleagues().map((a) => ({ value: a.id, text: a.state ? t('transfer_agent_state', { a: a.id, s: colleagueState(a) }) : a.id, state: a.state }))
      : app.targets.queue.map((q) => ({ value: q, text: q, state: '' }));
    // An unchanged list is left alone, so an open list is not closed.
    const drawn = kind + '\n' + I18N.lang() + '\n' + items.map((it) => it.value + '\t' + it.text).join('\n');
    if (drawn === sel.dataset.drawn) return;
    sel.dataset.drawn = drawn;
    sel.textContent = '';
    const head = document.createElement('option');
    head.value = '';
    head.disabled = true;
    head.textContent = items.length > 0 ? t('transfer_pick') : t(kind === 'agent' ? 'transfer_nobody' : 'transfer_no_queue');
    sel.appendChild(head);
    for (const it of items) {
      const o = document.createElement('option');
      o.value = it.value;
      o.textContent = it.text;
      if (it.state) o.dataset.state = it.state;
      sel.appendChild(o);
    }
    sel.value = items.some((it) => it.value === keep) ? keep : '';
    $('transfer').disabled = sel.value === '';
  }

  function transferKind() { return $('transfer-kind').value === 'agent' ? 'agent' : 'queue'; }

  function setState(state, reason, since) {
    const wasBusy = busy();
    const wasWrap = app.state === 'wrap_up';
    app.state = state || 'signed_out';
    app.reason = reason || '';
    app.since = parseTime(since);
    drawState();
    // Without audio (the page gave up) a call or wrap-up ending in ready
    // must not be offered a caller.
    if (app.state === 'ready' && app.media.gaveUp) send({ type: 'not_ready', reason: 'audio' });
    // Any state but "offered" ends the offer: accepted (the call view takes
    // over), or withdrawn.
    if (app.state !== 'offered' && app.ring) stopRinging();
    show($('wrapup'), app.state === 'wrap_up');
    if (app.state === 'wrap_up' && app.call) endCallView();
    // The notes written during the call carry into wrap-up.
    if (app.state === 'wrap_up' && !wasWrap && !$('wrapup-note').value) $('wrapup-note').value = noteOf(app.wrapCallId);
    if (app.state !== 'wrap_up') $('wrapup-note').value = ''; // kept while the server may refuse Done
    if (!busy()) forgetNotes();
    // Done with the call and its wrap-up: the ticket panel forgets it.
    if (!busy() && !app.ring) app.tk = newTicketContext('');
    drawDisposition();
    drawTickets();
    // The call's "you ended the call" notice ends with its wrap-up.
    if (wasWrap && app.state !== 'wrap_up' && app.message && /^call_(ended|transferred)/.test(app.message.key)) say(null);
    if (!busy()) $('stay-not-ready').checked = false;
    // A call and its wrap-up are over: its recording joins the recent calls.
    if (wasBusy && !busy()) refreshRecent(false);
  }

  function drawState() {
    const el = $('state');
    el.dataset.i18nState = app.state;
    el.dataset.state = app.state;
    el.className = 'state state-' + app.state;
    el.textContent = t('state_' + app.state);
    $('state-reason').textContent = app.state === 'not_ready' && app.reason ? reasonText(app.reason) : '';
    // During a call and its wrap-up the state changes through the call's own
    // buttons (wrap-up ends with Done).
    $('ready').disabled = app.state === 'ready' || busy() || app.noQueue;
    show($('no-queue'), app.noQueue);
    $('ready').setAttribute('aria-pressed', String(app.state === 'ready'));
    show($('reason'), app.reasons.length > 0);
    // While ready no reason is preselected: the agent picks one.
    if (app.state === 'ready') $('reason').value = '';
    else if (app.state === 'not_ready' && app.reasons.includes(app.reason)) $('reason').value = app.reason;
    drawNotReady();
    // One call timer: the state's own timer rests during a call.
    show($('state-timer'), !['on_call', 'on_hold'].includes(app.state));
    // "Stay not ready" is set during the call; in wrap-up it shows what
    // happens when wrap-up ends (changing it then would end the wrap-up).
    show($('stay-box'), ['on_call', 'on_hold', 'wrap_up'].includes(app.state) && app.reasons.length > 0);
    $('stay-not-ready').disabled = app.state === 'wrap_up';
    tick();
  }

  // noteOf is the note written during call id (kept in sessionStorage, so
  // a reload keeps it).
  function noteOf(id) {
    try { return (id && sessionStorage.getItem(NOTE_KEY + id)) || ''; } catch (e) { return ''; }
  }

  function keepNote() {
    const id = callId();
    if (!id) return;
    try { sessionStorage.setItem(NOTE_KEY + id, $('call-note').value); } catch (e) { /* storage may be off */ }
  }

  function forgetNotes() {
    $('call-note').value = '';
    try {
      for (let i = sessionStorage.length - 1; i >= 0; i--) {
        const k = sessionStorage.key(i);
        if (k && k.startsWith(NOTE_KEY)) sessionStorage.removeItem(k);
      }
    } catch (e) { /* storage may be off */ }
  }

  // drawNotReady enables Not ready once a reason is picked (or when none
  // are configured).
  function drawNotReady() {
    $('not-ready').disabled = busy() || app.noQueue || (app.reasons.length > 0 && !$('reason').value);
  }

  function busy() { return ['offered', 'on_call', 'on_hold', 'wrap_up', 'consult'].includes(app.state); }

  function onRing(msg) {
    app.ring = msg;
    app.ringDeadline = msg.timeout_ms > 0 ? Date.now() + msg.timeout_ms : 0;
    say(null);
    drawRing();
    ticketsFrom(msg);
    $('accept').disabled = false;
    $('reject').disabled = false;
    show($('ring'), true);
    tick();
    startRingSound();
    // The tab's title rings too, for an agent looking at another tab.
    document.title = '☎ ' + callerTitle(msg) + ' — ' + t('incoming_call');
    $('accept').focus();
  }

  function drawRing() {
    const r = app.ring;
    if (!r) return;
    const vars = r.vars || {};
    drawCaller('ring', r);
    setText('ring-queue', r.queue);
    setText('ring-language', languageText(r.language));
    setText('ring-serial', serialText(r));
    setText('ring-ivr', Array.isArray(r.ivr_steps) && r.ivr_steps.length ? stepsText(r.ivr_steps) : ivrText(r.ivr_path));
    drawVars('ring-vars', vars);
    const list = $('ring-tickets');
    list.textContent = '';
    for (const tk of (Array.isArray(r.tickets) ? r.tickets : [])) {
      const li = document.createElement('li');
      li.textContent = ticketText(tk);
      list.appendChild(li);
    }
    show($('ring-tickets-box'), list.children.length > 0);
  }

  function ivrText(path) {
    if (!Array.isArray(path) || path.length === 0) return '';
    return path.map((p) => {
      if (p === null || typeof p !== 'object') return String(p);
      return [p.label || p.menu || p.node || '', p.choice || p.digit || p.digits || ''].filter(Boolean).join(': ');
    }).join(' → ');
  }

  // stepsText is what the caller chose in the IVR, from the flow's labels
  // in the agent's language: "English → Technical support → serial number
  // skipped". A node the flow labels with no text is left out; one without
  // a label shows its id; a text already shown is not repeated.
  function stepsText(steps) {
    const parts = [];
    for (const st of steps) {
      if (st === null || typeof st !== 'object') continue;
      let text = '';
      if (st.type === 'language' && st.value) {
        text = languageText(st.value);
        text = text.charAt(0).toUpperCase() + text.slice(1);
      } else {
        const l = labelText(st.label);
        text = l === null ? String(st.node || '') : l;
      }
      if (text && !parts.includes(text)) parts.push(text);
      if (st.type === 'collect' && st.var && !st.value) parts.push(t('ivr_skipped', { what: varText(st.var) }));
    }
    return parts.join(' → ');
  }

  function varText(name) {
    const k = 'ivr_var_' + norm(name);
    return I18N.has(k) ? t(k) : String(name).replace(/_/g, ' ');
  }

  // serialText is the call's serial number, or whether the caller skipped
  // it or was not asked (when the IVR steps tell).
  function serialText(c) {
    const vars = c.vars || {};
    if (vars.serial) return vars.serial;
    if (!Array.isArray(c.ivr_steps) || c.ivr_steps.length === 0) return '';
    const asked = c.ivr_steps.some((st) => st && st.type === 'collect' && st.var === 'serial');
    return t(asked ? 'serial_skipped' : 'serial_not_asked');
  }

  // phoneText formats a calling number for reading. E.164 +1 and +7
  // numbers are grouped (+1 555 123 4567, +7 495 123-45-67), and so are the
  // same eleven digits without the plus, as carriers often send them
  // (15551234567, 74951234567), and Russia's national 8 prefix
  // (8 495 123-45-67). Anything else (other countries, whose grouping needs
  // each country's plan; short internal numbers; a SIP user name) is shown
  // as it came.
  function phoneText(n) {
    const s = String(n || '');
    const m = /^(\+?)(\d{7,15})$/.exec(s);
    if (!m) return s;
    const d = m[2];
    if (d.length !== 11) return s;
    const ru = (p) => p + ' ' + d.slice(1, 4) + ' ' + d.slice(4, 7) + '-' + d.slice(7, 9) + '-' + d.slice(9);
    if (d[0] === '1') return '+1 ' + d.slice(1, 4) + ' ' + d.slice(4, 7) + ' ' + d.slice(7);
    if (d[0] === '7') return ru('+7');
    if (d[0] === '8' && !m[1]) return ru('8');
    return s;
  }

  function callerOf(m) {
    const c = m && m.caller && typeof m.caller === 'object' ? m.caller : {};
    return { number: c.number || (m && m.from) || '', name: c.name || '', today: Number(c.calls_today) || 0,
      lastAt: Number(c.last_call_at) || 0, lastOutcome: c.last_outcome || '' };
  }

  function callerTitle(m) {
    const c = callerOf(m);
    return c.name || phoneText(c.number) || t('unknown_caller');
  }

  // drawCaller fills the banner's caller line (prefix "ring" or "call"):
  // the number, their name when a ticket knows it, and their earlier calls
  // of the day ("Called 2 times before today · last call 20 s ago,
  // abandoned").
  function drawCaller(prefix, m) {
    const c = callerOf(m);
    setText(prefix + '-from', phoneText(c.number) || t('unknown_caller'));
    $(prefix + '-name').textContent = c.name;
    const h = $(prefix + '-history');
    h.textContent = c.today > 0 ? historyText(c) : '';
    show(h, c.today > 0);
  }

  function historyText(c) {
    let s = t('caller_calls_today', { n: c.today });
    if (c.lastAt > 0) {
      const ok = 'outcome_' + norm(c.lastOutcome);
      const outcome = I18N.has(ok) ? t(ok) : t('outcome_other');
      s += ' · ' + t('caller_last_call', { ago: agoText(Date.now() - c.lastAt), outcome });
    }
    return s;
  }

  function agoText(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return t('ago_s', { n: s });
    if (s < 3600) return t('ago_min', { n: Math.floor(s / 60) });
    return t('ago_h', { n: Math.floor(s / 3600) });
  }

  function ticketText(tk) {
    if (tk === null || typeof tk !== 'object') return String(tk);
    const head = [tk.number || tk.id || '', tk.subject || ''].filter(Boolean).join(' — ');
    return tk.status ? head + ' (' + tk.status + ')' : head;
  }

  // drawVars lists the collected IVR variables other than the serial, which
  // has its own line.
  function drawVars(id, vars) {
    const dl = $(id);
    dl.textContent = '';
    for (const [k, v] of Object.entries(vars || {})) {
      if (k === 'serial' || v === null || typeof v === 'object') continue;
      const dt = document.createElement('dt');
      const label = k.replace(/_/g, ' ');
      dt.textContent = label.charAt(0).toUpperCase() + label.slice(1);
      const dd = document.createElement('dd');
      dd.textContent = String(v);
      dl.append(dt, dd);
    }
  }

  function onRingCancel(msg) {
    if (app.ring && msg.call_id && app.ring.call_id !== msg.call_id) return;
    stopRinging();
    const keys = { caller_hangup: 'cancel_caller_hangup', timeout: 'cancel_timeout', taken: 'cancel_taken' };
    say('notice', keys[norm(msg.reason)] || 'cancel_other');
  }

  function stopRinging() {
    app.ring = null;
    app.ringDeadline = 0;
    show($('ring'), false);
    stopRingSound();
    document.title = app.title;
    drawTickets();
  }

  function onCall(msg) {
    ticketsFrom(msg);
    if (msg.status === 'ended') {
      app.wrapCallId = msg.call_id || (app.call && app.call.call_id) || app.wrapCallId;
      const by = norm(msg.ended_by);
      let key = 'call_ended_other';
      if (by === 'caller') key = 'call_ended_caller';
      else if (by === 'agent') key = 'call_ended_agent';
      else if (/transfer/.test(by)) key = 'call_transferred';
      endCallView();
      say('notice', key);
      return;
    }
    if (app.ring && (!msg.call_id || app.ring.call_id === msg.call_id)) stopRinging();
    const fresh = !app.call || app.call.call_id !== msg.call_id;
    app.call = Object.assign({}, fresh ? {} : app.call, msg);
    // Every call message carries the recording state; absent means not recorded.
    app.call.recording = typeof msg.recording === 'string' ? msg.recording : '';
    if (typeof msg.wrap_up_ms === 'number') app.wrapMs = Math.max(0, msg.wrap_up_ms);
    if (typeof msg.hold_warn_ms === 'number' && msg.hold_warn_ms > 0) app.holdWarnMs = msg.hold_warn_ms;
    const held = msg.status === 'held';
    if (held && !app.heldSince) app.heldSince = Date.now();
    if (!held) app.heldSince = 0;
    app.wrapCallId = msg.call_id;
    if (fresh) {
      $('call-note').value = noteOf(msg.call_id); // a reloaded page keeps what was written
      app.callSince = Date.now();
      app.dtmf = '';
      $('dtmf-sent').textContent = '';
      setMuted(false);
      say(null);
    }
    drawCall();
    show($('call'), true);
    drawConsultForm();
  }

  function drawCall() {
    const c = app.call;
    if (!c) return;
    const vars = c.vars || {};
    drawCaller('call', c);
    setText('call-queue', c.queue);
    setText('call-language', languageText(c.language));
    setText('call-serial', serialText(c));
    setText('call-ivr', Array.isArray(c.ivr_steps) && c.ivr_steps.length ? stepsText(c.ivr_steps) : ivrText(c.ivr_path));
    drawVars('call-vars', vars);
    const held = c.status === 'held';
    $('call-status').textContent = t(held ? 'call_held' : 'call_connected');
    $('call-status').className = 'badge ' + (held ? 'badge-held' : 'badge-live');
    const hold = $('hold');
    hold.setAttribute('aria-pressed', String(held));
    hold.textContent = t(held ? 'btn_resume' : 'btn_hold');
    hold.dataset.i18n = held ? 'btn_resume' : 'btn_hold';
    drawRecording();
  }

  // drawRecording shows whether the call is recorded, and the PCI pause
  // button while it is.
  function drawRecording() {
    const rec = (app.call && app.call.recording) || '';
    const paused = rec === 'paused';
    $('call').dataset.recording = rec;
    const status = $('rec-status');
    status.dataset.i18n = paused ? 'rec_paused' : 'rec_on';
    status.textContent = t(status.dataset.i18n);
    status.className = 'badge ' + (paused ? 'badge-rec-paused' : 'badge-rec');
    show(status, rec !== '');
    const btn = $('rec-pause');
    btn.setAttribute('aria-pressed', String(paused));
    btn.dataset.i18n = paused ? 'btn_resume_rec' : 'btn_pause_rec';
    btn.textContent = t(btn.dataset.i18n);
    show(btn, rec !== '');
  }

  // ---- consultations (warm transfer) ---------------------------------------

  // onConsultation follows a consultation: the agent on the call asked for
  // it (role initiator) or is asked (role target).
  function onConsultation(msg) {
    if (msg.status === 'ended') {
      const who = msg.role === 'target' ? 'target' : 'initiator';
      let key = 'consult_end_' + norm(msg.reason);
      if (msg.reason === 'completed') key += '_' + who;
      if (!I18N.has(key)) key = 'consult_end_cancelled';
      app.consult = null;
      drawConsult();
      say('notice', key, { a: msg.agent || '' });
      return;
    }
    app.consult = msg;
    drawConsult();
  }

  // drawConsult shows the consultation panel and its buttons, and the
  // Consult form of a call while none is under way.
  function drawConsult() {
    const k = app.consult;
    const target = !!k && k.role === 'target';
    const ringing = !!k && k.status === 'ringing';
    show($('consult-panel'), !!k);
    if (k) {
      const key = 'consult_' + (ringing ? 'ringing' : 'talking') + '_' + (target ? 'target' : 'initiator');
      $('consult-title').textContent = t(key, { a: k.agent || '?' });
      $('consult-caller').textContent = target ? t('consult_caller', { c: callerTitle(k) }) : '';
      show($('consult-caller'), target);
    }
    show($('consult-accept'), target && ringing);
    show($('consult-reject'), target && ringing);
    show($('consult-leave'), target && !ringing);
    show($('consult-complete'), !!k && !target && !ringing);
    show($('consult-cancel'), !!k && !target);
    if (target && ringing && !app.ringer) startRingSound();
    if (!(target && ringing) && app.ringer && !app.ring) stopRingSound();
    // While consulting, the call's own hold and transfers wait.
    $('hold').disabled = !!k;
    $('transfer').disabled = !!k;
    // Afterwards the transfer form decides again (its own change handler,
    // if it has one, knows whether a target is picked).
    if (!k) $('transfer-target').dispatchEvent(new Event('change'));
    drawConsultForm();
  }

  // drawConsultForm offers the other agents to consult during a call.
  function drawConsultForm() {
    const people = colleagues();
    const on = app.consultOn && !!app.call && !app.consult && people.length > 0;
    show($('consult-form'), on);
    const sel = $('consult-agent');
    const keep = sel.value;
    sel.textContent = '';
    const pick = document.createElement('option');
    pick.value = '';
    pick.textContent = t('consult_pick');
    sel.appendChild(pick);
    for (const a of people) {
      const o = document.createElement('option');
      o.value = a.id;
      o.textContent = a.state ? t('transfer_agent_state', { a: a.id, s: colleagueState(a) }) : a.id;
      if (a.state) o.dataset.state = a.state;
      sel.appendChild(o);
    }
    sel.value = people.some((a) => a.id === keep) ? keep : '';
  }

  function consultSend(type) {
    const k = app.consult;
    if (k && send({ type, call_id: k.call_id })) say(null);
  }

  function wireConsult() {
    $('consult-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const agent = $('consult-agent').value;
      if (!agent || !callId()) return;
      if (send({ type: 'consult', call_id: callId(), agent })) say(null);
    });
    $('consult-accept').addEventListener('click', () => consultSend('consult_accept'));
    $('consult-reject').addEventListener('click', () => consultSend('consult_reject'));
    $('consult-leave').addEventListener('click', () => consultSend('consult_reject'));
    $('consult-complete').addEventListener('click', () => consultSend('consult_complete'));
    $('consult-cancel').addEventListener('click', () => consultSend('consult_cancel'));
    I18N.onChange(drawConsult);
  }

  function endCallView() {
    app.call = null;
    show($('call'), false);
    drawConsultForm();
    setMuted(false);
    drawRecording();
    drawTickets();
  }

  function onError(msg) {
    const code = norm(msg.code);
    if (msg.ref === 'mute') {
      // The microphone is muted on the page either way; the server only
      // marks the recording. Nothing for the agent to do.
      console.warn('hotline: mute not recorded by the server:', msg.code, msg.message);
      return;
    }
    if (msg.ref === 'transfer' && code === 'invalid') say('error', 'err_transfer', { m: msg.message || '?' });
    else if (/^consult/.test(msg.ref || '')) say('error', 'err_consult', { m: msg.message || msg.code || '?' });
    else if (msg.ref === 'pause_recording') say('error', 'err_pause', { m: msg.message || msg.code || '?' });
    else if (code === 'disposition_required') {
      say('error', 'err_disposition', { m: msg.message || '' });
      show($('wrapup-disposition-hint'), true);
    }
    else if (code === 'forbidden') say('error', 'err_forbidden');
    else if (code === 'version') say('error', 'err_version');
    else if (code === 'state') say('error', 'err_bad_state');
    else if (code === 'not_found') say('error', 'err_not_found');
    else if (code === 'webrtc') audioTrouble(app.pcGen);
    else say('error', 'err_generic', { m: msg.message || msg.code || '?' });
  }

  // ---- WebRTC -------------------------------------------------------------

  // getMic opens the microphone once per page. ?audio=raw turns off the
  // browser's voice processing (tests with a steady tone need that).
  async function getMic() {
    if (app.mic) return app.mic;
    const raw = query.get('audio') === 'raw';
    const audio = raw ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false } : true;
    app.mic = await navigator.mediaDevices.getUserMedia({ audio, video: false });
    app.mic.getAudioTracks().forEach((tr) => { tr.enabled = !app.muted; });
    return app.mic;
  }

  function showMicError(e) {
    const el = $('mic-status');
    el.dataset.key = e && (e.name === 'NotAllowedError' || e.name === 'SecurityError') ? 'mic_denied' : 'mic_failed';
    el.dataset.detail = (e && (e.message || e.name)) || '';
    el.textContent = t(el.dataset.key, { m: el.dataset.detail });
    show(el, true);
  }

  function iceServers() {
    return app.iceServers.filter((s) => s && s.urls).map((s) => {
      const out = { urls: s.urls };
      if (s.username) out.username = s.username;
      if (s.credential) out.credential = s.credential;
      return out;
    });
  }

  // startPeer makes the one peer connection of this WebSocket session and
  // sends the offer (the browser owns the microphone, so it offers). The
  // offer goes out once ICE gathering completes, or after GATHER_WAIT_MS with
  // the candidates found so far; later candidates follow as `ice` messages.
  async function startPeer() {
    const gen = ++app.pcGen;
    if (app.pc) {
      try { app.pc.close(); } catch (e) { /* already closed */ }
      app.pc = null;
    }
    let stream = null;
    try {
      stream = await getMic();
      show($('mic-status'), false);
    } catch (e) {
      showMicError(e);
    }
    if (gen !== app.pcGen) return;
    const pc = new RTCPeerConnection({ iceServers: iceServers() });
    app.pc = pc;
    if (stream) {
      stream.getAudioTracks().forEach((tr) => pc.addTrack(tr, stream));
    } else {
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    pc.ontrack = (ev) => {
      const el = $('remote-audio');
      el.srcObject = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
      el.play().catch(() => { /* autoplay: plays on the next click */ });
    };
    let offerSent = false;
    pc.onicecandidate = (ev) => {
      if (offerSent && ev.candidate && gen === app.pcGen) send({ type: 'ice', candidate: ev.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      if (gen !== app.pcGen) return;
      document.body.dataset.rtc = pc.connectionState;
      if (pc.connectionState === 'connected') audioBack();
      if (pc.connectionState === 'failed' && app.ws && app.ws.readyState === WebSocket.OPEN) audioTrouble(gen);
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, GATHER_WAIT_MS);
      if (gen !== app.pcGen) return;
      offerSent = true;
      send({ type: 'webrtc_offer', sdp: pc.localDescription.sdp });
      clearTimeout(app.media.watch);
      app.media.watch = setTimeout(() => {
        if (gen === app.pcGen && pc.connectionState !== 'connected') audioTrouble(gen);
      }, AUDIO_CONNECT_MS);
    } catch (e) {
      console.error('hotline: offer', e);
      say('error', 'err_generic', { m: String(e && e.message || e) });
    }
  }

  function gathered(pc, maxMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const timer = setTimeout(done, maxMs);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  async function onAnswer(msg) {
    if (!app.pc || !msg.sdp) return;
    app.media.addr = candidateAddr(msg.sdp) || app.media.addr;
    try {
      await app.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
    } catch (e) {
      console.error('hotline: answer', e);
      audioTrouble(app.pcGen);
    }
  }

  // candidateAddr is the first UDP address among an SDP's candidates: the
  // server's softphone address as this page was told it.
  function candidateAddr(sdp) {
    const m = /a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ/i.exec(String(sdp || ''));
    if (!m) return '';
    return (m[1].includes(':') ? '[' + m[1] + ']' : m[1]) + ':' + m[2];
  }

  // audioTrouble handles peer connection gen that failed or did not connect
  // in time: the banner says what to check and a new offer goes out after
  // a backoff, AUDIO_RETRIES times; then audioGiveUp.
  function audioTrouble(gen) {
    const a = app.media;
    if (gen !== app.pcGen || a.gaveUp) return;
    clearTimeout(a.watch);
    clearTimeout(a.timer);
    if (a.tries >= AUDIO_RETRIES) {
      audioGiveUp();
      return;
    }
    const wait = AUDIO_BACKOFF_MS * 2 ** a.tries;
    a.tries++;
    say('error', a.addr ? 'audio_retry_addr' : 'audio_retry', { n: a.tries, max: AUDIO_RETRIES, addr: a.addr });
    a.timer = setTimeout(() => { if (gen === app.pcGen) startPeer(); }, wait);
  }

  // audioGiveUp ends the retries: a ready or ringing agent is made not
  // ready "audio" (so no call rings into silence), one on a call or in
  // wrap-up when that ends in ready (setState); one already not ready keeps
  // their reason. The banner says what to check; Ready starts again.
  function audioGiveUp() {
    const a = app.media;
    a.gaveUp = true;
    console.warn('hotline: no audio connection after', a.tries, 'retries');
    if (app.state === 'ready' || app.state === 'offered') send({ type: 'not_ready', reason: 'audio' });
    say('error', a.addr ? 'audio_gave_up_addr' : 'audio_gave_up', { addr: a.addr });
  }

  // audioBack: the media connection is up; the retries start afresh next
  // time, and an audio-trouble banner goes.
  function audioBack() {
    const a = app.media;
    clearTimeout(a.watch);
    a.tries = 0;
    a.gaveUp = false;
    if (app.message && /^audio_/.test(app.message.key)) say(null);
  }

  async function onRemoteIce(msg) {
    if (!app.pc || !msg.candidate) return;
    try {
      await app.pc.addIceCandidate(msg.candidate);
    } catch (e) {
      console.warn('hotline: remote candidate', e);
    }
  }

  function setMuted(on) {
    app.muted = on;
    if (app.mic) app.mic.getAudioTracks().forEach((tr) => { tr.enabled = !on; });
    const b = $('mute');
    b.setAttribute('aria-pressed', String(on));
    b.dataset.i18n = on ? 'btn_unmute' : 'btn_mute';
    b.textContent = t(b.dataset.i18n);
  }

  // ---- ring sound (Web Audio, no files) -----------------------------------

  // audioContext returns the page's AudioContext for the ring sound. Until
  // the agent's first click on this page a browser may keep it suspended; a
  // hint says so, since a ring nobody hears is a missed call.
  function audioContext() {
    if (!app.audio) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return null;
      app.audio = new AC();
      app.audio.addEventListener('statechange', soundHint);
    }
    if (app.audio.state === 'suspended') app.audio.resume().catch(() => {});
    soundHint();
    return app.audio;
  }

  function soundHint() {
    show($('sound-hint'), !!app.audio && app.audio.state !== 'running');
  }

  // startRingSound plays a two-tone ring (400 + 450 Hz, two bursts every 3 s)
  // until stopRingSound.
  function startRingSound() {
    stopRingSound();
    const ac = audioContext();
    if (!ac) return;
    const gain = ac.createGain();
    gain.gain.value = 0;
    gain.connect(ac.destination);
    const oscs = [400, 450].map((f) => {
      const o = ac.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start();
      return o;
    });
    const burst = () => {
      const t0 = ac.currentTime + 0.05;
      const g = gain.gain;
      g.cancelScheduledValues(t0);
      g.setValueAtTime(0.15, t0);
      g.setValueAtTime(0, t0 + 0.4);
      g.setValueAtTime(0.15, t0 + 0.6);
      g.setValueAtTime(0, t0 + 1.0);
    };
    burst();
    app.ringer = { gain, oscs, timer: setInterval(burst, 3000) };
    document.body.dataset.ringing = 'true';
  }

  function stopRingSound() {
    const r = app.ringer;
    app.ringer = null;
    delete document.body.dataset.ringing;
    if (!r) return;
    clearInterval(r.timer);
    r.oscs.forEach((o) => { try { o.stop(); } catch (e) { /* not started */ } });
    r.gain.disconnect();
  }

  // ---- recent calls ---------------------------------------------------------

  // refreshRecent loads the agent's last RECENT_LIMIT recordings. A node
  // without recordings (404) hides the panel. retry: a look again at a
  // recording that was still being written.
  async function refreshRecent(retry) {
    clearTimeout(app.recentTimer);
    if (!retry) app.recentTries = 0;
    const gen = ++app.recentGen;
    const q = new URLSearchParams({ limit: String(RECENT_LIMIT) });
    if (app.username) q.set('agent', app.username);
    let resp;
    let body;
    try {
      resp = await fetch('/api/v1/recordings?' + q.toString(), { credentials: 'same-origin', cache: 'no-store' });
      if (resp.ok) body = await resp.json();
    } catch (e) {
      resp = null;
    }
    if (gen !== app.recentGen) return;
    if (resp && (resp.status === 404 || resp.status === 403 || resp.status === 401)) {
      // No recordings here (or the session ended: the socket's reconnect
      // sends the agent to the sign-in page).
      show($('recent'), false);
      return;
    }
    show($('recent'), true);
    if (!resp || !resp.ok || !body) {
      show($('recent-error'), true);
      return;
    }
    show($('recent-error'), false);
    app.recent = Array.isArray(body.recordings) ? body.recordings : [];
    drawRecent();
    if (app.recent.some((r) => r.state === 'recording') && app.recentTries < RECENT_RETRIES) {
      app.recentTries++;
      app.recentTimer = setTimeout(() => refreshRecent(true), RECENT_RETRY_MS);
    }
  }

  function recentTime(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return t('none');
    try {
      return new Intl.DateTimeFormat(I18N.lang(), { dateStyle: 'short', timeStyle: 'short' }).format(d);
    } catch (e) {
      return d.toLocaleString();
    }
  }

  function recentState(r) {
    const k = 'rec_state_' + r.state;
    return I18N.has(k) ? t(k) : String(r.state || '');
  }

  // drawRecent lists app.recent; while one of the listed recordings plays,
  // the new list waits for it to stop.
  function drawRecent() {
    const list = $('recent-list');
    if ([...list.querySelectorAll('audio')].some((a) => !a.paused && !a.ended)) {
      app.recentStale = true;
      return;
    }
    app.recentStale = false;
    list.textContent = '';
    for (const r of app.recent) {
      const li = document.createElement('li');
      li.id = 'recent-' + r.id;
      li.className = 'recent-item';
      li.dataset.id = r.id;
      li.dataset.state = r.state || '';
      const time = document.createElement('span');
      time.className = 'recent-time';
      time.textContent = recentTime(r.started_at);
      const queue = document.createElement('span');
      queue.className = 'recent-queue';
      queue.textContent = r.queue || t('none');
      const dur = document.createElement('span');
      dur.className = 'recent-duration';
      dur.textContent = clock(r.duration_ms || 0);
      li.append(time, queue, dur);
      if (r.audio_url) {
        const audio = document.createElement('audio');
        audio.id = 'recent-audio-' + r.id;
        audio.className = 'recent-audio';
        audio.controls = true;
        audio.preload = 'none';
        audio.src = r.audio_url;
        audio.addEventListener('pause', () => { if (app.recentStale) drawRecent(); });
        li.appendChild(audio);
      } else {
        const st = document.createElement('span');
        st.className = 'recent-state';
        st.textContent = recentState(r);
        li.appendChild(st);
      }
      list.appendChild(li);
    }
    show($('recent-empty'), app.recent.length === 0);
  }

  // drawRecentText redraws the texts of the list in the current language.
  function drawRecentText() {
    for (const r of app.recent) {
      const li = document.getElementById('recent-' + r.id);
      if (!li) continue;
      li.querySelector('.recent-time').textContent = recentTime(r.started_at);
      if (!r.queue) li.querySelector('.recent-queue').textContent = t('none');
      const st = li.querySelector('.recent-state');
      if (st) st.textContent = recentState(r);
    }
  }

  // ---- tickets --------------------------------------------------------------

  // tkey is a ticket number as the API writes it ("T-000123"), from
  // "T-000123", "T-123", "T123" or "123"; anything else as it is.
  function tkey(v) {
    const m = /^[Tt]-?0*(\d+)$/.exec(String(v === undefined || v === null ? '' : v).trim());
    return m ? 'T-' + m[1].padStart(6, '0') : String(v || '');
  }

  // ticketView is one ticket as the panel shows it, from the short view of
  // a ring or call message or from the API's full ticket.
  function ticketView(tk) {
    if (tk === null || typeof tk !== 'object') return { number: tkey(tk), subject: '', status: '', lastNote: '', missed: false, updated: 0, calls: [] };
    const notes = Array.isArray(tk.notes) ? tk.notes : [];
    const last = notes.length ? notes[notes.length - 1] : null;
    let updated = 0;
    if (typeof tk.updated === 'number') updated = tk.updated;
    else if (tk.updated_at) updated = Math.max(0, Date.parse(tk.updated_at) || 0); // Go's zero time is no time
    return {
      number: tkey(tk.id || tk.number),
      subject: String(tk.subject || ''),
      status: String(tk.status || ''),
      lastNote: String(tk.last_note || (last && last.text) || ''),
      missed: !!tk.missed,
      updated,
      calls: (Array.isArray(tk.calls) ? tk.calls : []).map((c) => (c && c.call_id) || ''),
    };
  }

  // ticketsFrom takes the call and its caller's tickets from a ring or call
  // message. A new call starts a new panel; the same call keeps what the
  // agent did (attached tickets, the search).
  function ticketsFrom(msg) {
    const id = (msg && msg.call_id) || '';
    if (!id) return;
    if (app.tk.callId !== id) app.tk = newTicketContext(id);
    const tk = app.tk;
    if (msg.from !== undefined) tk.from = String(msg.from || '');
    if (msg.queue !== undefined) tk.queue = String(msg.queue || '');
    if (msg.vars && typeof msg.vars === 'object') tk.vars = msg.vars;
    if (Array.isArray(msg.tickets)) tk.tickets = msg.tickets.map(ticketView).filter((v) => v.number);
    if (Array.isArray(msg.dispositions)) tk.dispositions = msg.dispositions.map(String).filter((d) => d);
    drawTickets();
  }

  // ticketCallId is the call the panel attaches: the ringing one, the live
  // one, or the one in wrap-up.
  function ticketCallId() {
    if (app.ring || app.call || ['on_call', 'on_hold', 'wrap_up'].includes(app.state)) return app.tk.callId;
    return '';
  }

  function statusText(st) {
    const k = 'tstatus_' + norm(st);
    return I18N.has(k) ? t(k) : String(st || '');
  }

  function shortTime(ms) {
    if (!ms) return '';
    try {
      return new Intl.DateTimeFormat(I18N.lang(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(ms));
    } catch (e) {
      return new Date(ms).toLocaleString();
    }
  }

  function isAttached(v) { return app.tk.attached.includes(v.number) || (!!app.tk.callId && v.calls.includes(app.tk.callId)); }

  // ticketItem draws one ticket with its Attach button.
  function ticketItem(v) {
    v = app.tk.local[v.number] || v;
    const li = document.createElement('li');
    li.className = 'ticket-item';
    li.dataset.number = v.number;
    const attached = isAttached(v);
    li.dataset.attached = String(attached);
    const head = document.createElement('div');
    head.className = 'ticket-head';
    const num = document.createElement('span');
    num.className = 'ticket-number';
    num.textContent = v.number;
    const st = document.createElement('span');
    st.className = 'badge ticket-status ticket-status-' + norm(v.status);
    st.textContent = statusText(v.status);
    head.append(num, st);
    if (v.missed) {
      const m = document.createElement('span');
      m.className = 'badge ticket-missed';
      m.textContent = t('ticket_missed');
      head.appendChild(m);
    }
    if (v.updated) {
      const u = document.createElement('span');
      u.className = 'ticket-updated';
      u.textContent = t('ticket_updated', { d: shortTime(v.updated) });
      head.appendChild(u);
    }
    const subj = document.createElement('div');
    subj.className = 'ticket-subject';
    subj.textContent = v.subject || t('none');
    li.append(head, subj);
    if (v.lastNote) {
      const note = document.createElement('div');
      note.className = 'ticket-note';
      note.textContent = v.lastNote;
      li.appendChild(note);
    }
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'ticket-attach';
    btn.dataset.number = v.number;
    btn.textContent = t(attached ? 'ticket_is_attached' : 'btn_attach');
    btn.disabled = attached || !ticketCallId();
    btn.setAttribute('aria-pressed', String(attached));
    li.appendChild(btn);
    return li;
  }

  // drawTickets shows the panel for the current call, or hides it.
  function drawTickets() {
    const tk = app.tk;
    const on = !!ticketCallId();
    show($('ticket-panel'), on);
    if (!on) {
      show($('ticket-new'), false);
      return;
    }
    const list = $('ticket-list');
    list.textContent = '';
    for (const v of tk.tickets) list.appendChild(ticketItem(v));
    show($('ticket-none'), tk.tickets.length === 0);
    const res = $('ticket-results');
    res.textContent = '';
    for (const v of tk.results || []) res.appendChild(ticketItem(v));
    show($('ticket-results-empty'), Array.isArray(tk.results) && tk.results.length === 0);
    const att = $('ticket-attached');
    att.textContent = tk.attached.length ? t('ticket_attached_to', { n: tk.attached.join(', ') }) : '';
    show(att, tk.attached.length > 0);
    show($('ticket-auto'), tk.attached.length === 0);
    const err = $('ticket-error');
    err.textContent = tk.error ? t('ticket_err', tk.error) : '';
    show(err, !!tk.error);
  }

  // api makes one JSON request of the tickets API; it never throws.
  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', cache: 'no-store', headers: {} };
    if (method !== 'GET') init.headers['X-CSRF-Token'] = app.csrf;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      return { ok: false, status: 0, body: null };
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { /* no JSON body */ }
    return { ok: resp.ok, status: resp.status, body: data };
  }

  // refreshOverview reads the agent's queues now and their day so far.
  async function refreshOverview() {
    const r = await api('GET', '/api/v1/agent/overview');
    if (!r.ok || !r.body || !Array.isArray(r.body.queues)) return;
    app.overview = r.body;
    drawOverview();
    drawTargets();
    drawConsultForm();
  }

  // drawOverview fills the queue strip: per queue waiting now, longest
  // wait and agents ready; then "my day".
  function drawOverview() {
    const o = app.overview;
    if (!o) return;
    const list = $('strip-list');
    list.textContent = '';
    for (const q of o.queues) {
      const li = document.createElement('li');
      li.dataset.queue = String(q.name || '');
      const waiting = Number(q.waiting) || 0;
      li.className = waiting > 0 ? 'busy' : '';
      li.textContent = t('strip_queue', { q: q.name, n: waiting, w: clock(Number(q.longest_wait_ms) || 0), r: Number(q.ready) || 0 });
      list.appendChild(li);
    }
    show($('strip'), o.queues.length > 0);
    const day = $('my-day');
    const d = o.day;
    show(day, !!d);
    if (d) {
      const aht = typeof d.aht_s === 'number' ? clock(d.aht_s * 1000) : t('none');
      day.textContent = t('my_day', { n: Number(d.handled) || 0, aht, ready: clock((Number(d.ready_s) || 0) * 1000) });
    }
  }

  // failed shows why a ticket request did not work.
  function failed(r) {
    let m = (r.body && r.body.error) || '';
    if (!m) m = r.status ? 'HTTP ' + r.status : t('ticket_offline');
    app.tk.error = { m };
    drawTickets();
  }

  // remember keeps a ticket as the API returned it after this page changed
  // it, and puts it in place of its older copies.
  function remember(body) {
    const v = ticketView(body);
    const tk = app.tk;
    tk.local[v.number] = v;
    if (isAttached(v) && !tk.attached.includes(v.number)) tk.attached.push(v.number);
    return v;
  }

  async function attachTicket(number) {
    const callId = ticketCallId();
    if (!callId || !number) return;
    app.tk.error = null;
    const r = await api('POST', '/api/v1/tickets/' + encodeURIComponent(number) + '/calls', { call_id: callId });
    if (app.tk.callId !== callId) return; // another call meanwhile
    if (!r.ok || !r.body) {
      failed(r);
      return;
    }
    const v = remember(r.body);
    if (!app.tk.attached.includes(v.number)) app.tk.attached.push(v.number);
    drawTickets();
  }

  // searchTickets finds tickets by what the agent typed: a ticket number
  // opens that ticket; a phone number or a serial searches.
  async function searchTickets(text) {
    const q = text.trim();
    const tk = app.tk;
    if (!q || !tk.callId) return;
    const gen = ++tk.searchGen;
    tk.error = null;
    const current = () => app.tk === tk && gen === tk.searchGen;
    const byNumber = /^[Tt]-?\d{1,18}$/.test(q) || /^\d{1,6}$/.test(q);
    if (byNumber) {
      const r = await api('GET', '/api/v1/tickets/' + encodeURIComponent(q));
      if (!current()) return;
      if (r.ok && r.body) {
        tk.results = [ticketView(r.body)];
        drawTickets();
        return;
      }
      // A short number that is no ticket may be (part of) a phone number.
      if (r.status !== 404 || /^[Tt]/.test(q)) {
        if (r.status === 404) tk.results = [];
        else failed(r);
        drawTickets();
        return;
      }
    }
    const params = new URLSearchParams({ limit: String(TICKET_SEARCH_LIMIT) });
    if (/^\+?[\d\s().-]+$/.test(q)) params.set('phone', q.replace(/[\s().-]/g, ''));
    else params.set('serial', q);
    const r = await api('GET', '/api/v1/tickets?' + params.toString());
    if (!current()) return;
    if (!r.ok || !r.body) {
      failed(r);
      return;
    }
    tk.results = (Array.isArray(r.body.tickets) ? r.body.tickets : []).map(ticketView);
    drawTickets();
  }

  // openNewTicket shows the new-ticket form, its subject made from the
  // queue and the serial as the server names tickets it makes.
  function openNewTicket() {
    const tk = app.tk;
    let subject = tk.queue ? t('ticket_subject_queue', { q: tk.queue }) : t('ticket_subject_call');
    if (tk.vars && tk.vars.serial) subject += t('ticket_subject_serial', { s: tk.vars.serial });
    $('ticket-new-subject').value = subject;
    $('ticket-new-note').value = '';
    $('ticket-new-status').value = 'new';
    show($('ticket-new'), true);
    $('ticket-new-subject').focus();
  }

  async function createTicket() {
    const tk = app.tk;
    const callId = ticketCallId();
    const subject = $('ticket-new-subject').value.trim();
    if (!callId || !subject) return;
    const body = { subject, status: $('ticket-new-status').value, call_id: callId };
    const note = $('ticket-new-note').value.trim();
    if (note) body.note = note;
    if (tk.from) body.caller_number = tk.from;
    if (tk.queue) body.queue = tk.queue;
    const vars = tk.vars || {};
    if (vars.serial) body.serial = String(vars.serial);
    if (vars.product) body.product = String(vars.product);
    tk.error = null;
    $('ticket-new-create').disabled = true;
    const r = await api('POST', '/api/v1/tickets', body);
    $('ticket-new-create').disabled = false;
    if (app.tk !== tk) return;
    if (!r.ok || !r.body) {
      failed(r);
      return;
    }
    const v = remember(r.body);
    if (!tk.attached.includes(v.number)) tk.attached.push(v.number);
    if (!tk.tickets.some((x) => x.number === v.number)) tk.tickets.unshift(v);
    show($('ticket-new'), false);
    drawTickets();
  }

  // ---- disposition ------------------------------------------------------------

  function dispositionText(code) {
    const k = 'disp_' + norm(code);
    return I18N.has(k) ? t(k) : String(code);
  }

  // drawDisposition offers the queue's codes (one must be picked) or, for a
  // queue without codes, the usual choices; Done waits for a choice.
  function drawDisposition() {
    const codes = app.tk.dispositions;
    const required = codes.length > 0;
    const sel = $('wrapup-disposition');
    // A new call or a new list starts without a choice; a new language
    // keeps the agent's.
    const key = app.tk.callId + '|' + codes.join('\n');
    const lang = I18N.lang();
    if (app.dispKey !== key || app.dispLang !== lang) {
      const keep = app.dispKey === key ? sel.value : '';
      app.dispKey = key;
      app.dispLang = lang;
      sel.textContent = '';
      const add = (value, text) => {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        sel.appendChild(o);
      };
      if (required) add('', t('disp_choose'));
      for (const c of required ? codes : DEFAULT_DISPOSITIONS) add(c, dispositionText(c));
      const values = [...sel.options].map((o) => o.value);
      sel.value = values.includes(keep) ? keep : values[0];
    }
    sel.required = required;
    updateDone();
  }

  function updateDone() {
    const missing = app.tk.dispositions.length > 0 && !$('wrapup-disposition').value;
    $('wrapup-done').disabled = missing;
    if (!missing) show($('wrapup-disposition-hint'), false);
    else if (app.state === 'wrap_up') show($('wrapup-disposition-hint'), true);
  }

  // ---- timers -------------------------------------------------------------

  function tick() {
    const now = Date.now();
    $('state-timer').textContent = clock(now - app.since);
    if (app.call) $('call-timer').textContent = clock(now - app.callSince);
    const hold = $('hold-timer');
    show(hold, !!(app.call && app.heldSince));
    if (app.call && app.heldSince) {
      hold.textContent = t('hold_for', { t: clock(now - app.heldSince) });
      hold.classList.toggle('warn', now - app.heldSince >= app.holdWarnMs);
    }
    const wrap = $('wrapup-countdown');
    if (app.state === 'wrap_up' && app.wrapMs > 0) {
      const key = $('stay-not-ready').checked ? 'wrapup_then_not_ready' : 'wrapup_then_ready';
      wrap.textContent = t(key, { t: clock(app.since + app.wrapMs - now + 999) });
    } else wrap.textContent = '';
    if (app.ringDeadline) $('ring-countdown').textContent = clock(app.ringDeadline - now + 999);
    else $('ring-countdown').textContent = '';
  }

  // ---- user actions -------------------------------------------------------

  function callId() { return (app.call && app.call.call_id) || ''; }

  function wire() {
    // Any click lets the page make sound (browsers' autoplay rules).
    document.addEventListener('click', () => {
      audioContext();
      const el = $('remote-audio');
      if (el.srcObject && el.paused) el.play().catch(() => {});
    }, { capture: true });

    $('logout').addEventListener('click', logout);
    $('ready').addEventListener('click', () => {
      say(null);
      if (app.media.gaveUp) { // Ready tries the audio again
        app.media.gaveUp = false;
        app.media.tries = 0;
        startPeer();
      }
      send({ type: 'ready' });
    });
    $('reason').addEventListener('change', drawNotReady);
    $('call-note').addEventListener('input', keepNote);
    $('stay-not-ready').addEventListener('change', () => {
      if (!['on_call', 'on_hold'].includes(app.state)) return;
      // The ACD keeps a not ready asked for during a call until wrap-up
      // ends; a ready during the call forgets it.
      if ($('stay-not-ready').checked) send({ type: 'not_ready', reason: $('reason').value || app.reasons[0] || '' });
      else send({ type: 'ready' });
    });
    $('not-ready').addEventListener('click', () => { say(null); send({ type: 'not_ready', reason: $('reason').value }); });
    $('accept').addEventListener('click', () => {
      if (!app.ring) return;
      send({ type: 'accept', call_id: app.ring.call_id });
      stopRingSound(); // the banner stays until the server confirms
      $('accept').disabled = true;
      $('reject').disabled = true;
    });
    $('reject').addEventListener('click', () => {
      if (!app.ring) return;
      send({ type: 'reject', call_id: app.ring.call_id });
      stopRinging();
    });
    $('hangup').addEventListener('click', () => { if (callId()) send({ type: 'hangup', call_id: callId() }); });
    $('mute').addEventListener('click', () => {
      setMuted(!app.muted);
      // The server marks the muted span in the call's recording.
      if (callId()) send({ type: 'mute', call_id: callId(), on: app.muted });
    });
    $('rec-pause').addEventListener('click', () => {
      if (!callId() || !app.call.recording) return;
      // The page shows the new state when the server's call message says so.
      if (send({ type: 'pause_recording', call_id: callId(), on: app.call.recording !== 'paused' })) say(null);
    });
    $('hold').addEventListener('click', () => {
      if (!callId()) return;
      send({ type: 'hold', call_id: callId(), on: app.call.status !== 'held' });
    });
    $('keypad').addEventListener('click', (ev) => {
      const d = ev.target && ev.target.dataset ? ev.target.dataset.digit : '';
      if (!d || !callId()) return;
      if (send({ type: 'dtmf', call_id: callId(), digits: d })) {
        app.dtmf = (app.dtmf + d).slice(-20);
        $('dtmf-sent').textContent = t('dtmf_sent', { d: app.dtmf });
      }
    });
    $('transfer-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const target = $('transfer-target').value.trim();
      if (!target || !callId()) return;
      if (send({ type: 'transfer', call_id: callId(), [transferKind()]: target })) {
        $('transfer-target').value = '';
        $('transfer').disabled = true;
        say(null);
      }
    });
    $('transfer-kind').addEventListener('change', () => { drawTargets(); refreshOverview(); });
    $('transfer-target').addEventListener('change', () => { $('transfer').disabled = $('transfer-target').value === ''; });
    $('transfer-target').addEventListener('focus', refreshOverview);
    wireConsult();
    $('wrapup-disposition').addEventListener('change', updateDone);
    $('wrapup-done').addEventListener('click', () => {
      const disposition = $('wrapup-disposition').value;
      if (app.tk.dispositions.length > 0 && !app.tk.dispositions.includes(disposition)) {
        updateDone();
        return;
      }
      if (send({ type: 'wrapup_done', call_id: app.wrapCallId, note: $('wrapup-note').value, disposition })) say(null);
    });

    // The ticket panel.
    const onAttach = (ev) => {
      const b = ev.target && ev.target.closest ? ev.target.closest('button.ticket-attach') : null;
      if (b && !b.disabled) attachTicket(b.dataset.number);
    };
    $('ticket-list').addEventListener('click', onAttach);
    $('ticket-results').addEventListener('click', onAttach);
    $('ticket-search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      searchTickets($('ticket-search').value);
    });
    $('ticket-new-open').addEventListener('click', openNewTicket);
    $('ticket-new-cancel').addEventListener('click', () => show($('ticket-new'), false));
    $('ticket-new').addEventListener('submit', (ev) => {
      ev.preventDefault();
      createTicket();
    });

    I18N.onChange(() => {
      drawState();
      drawReasons();
      drawRing();
      drawCall();
      drawRecording();
      drawRecentText();
      drawOverview();
      drawTargets();
      drawTickets();
      drawDisposition();
      setMuted(app.muted);
      const conn = $('conn');
      conn.textContent = t(conn.dataset.i18n);
      if (app.message) app.message.el.textContent = t(app.message.key, app.message.params);
      const mic = $('mic-status');
      if (!mic.hidden) mic.textContent = t(mic.dataset.key, { m: mic.dataset.detail });
      if (app.dtmf) $('dtmf-sent').textContent = t('dtmf_sent', { d: app.dtmf });
    });

    setInterval(tick, 500);
  }

  // A read-only view for tests and for the curious (not an API).
  window.hotlineAgent = {
    state: () => app.state,
    rtc: () => (app.pc ? app.pc.connectionState : 'none'),
    ringing: () => app.ringer !== null,
    muted: () => app.muted,
    recording: () => (app.call && app.call.recording) || '',
    recent: () => app.recent.map((r) => r.id),
    attached: () => app.tk.attached.slice(),
    audioTries: () => app.media.tries, // retries of the media connection since it was last up
  };

  async function boot() {
    wire();
    drawState();
    audioContext();
    for (;;) {
      try {
        if (!(await loadMe())) return;
        break;
      } catch (e) {
        setConn('conn_down', false);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    connect();
    refreshRecent(false);
    refreshOverview();
    setInterval(refreshOverview, OVERVIEW_MS);
  }

  boot();
})();
