// The supervisor page: the live wallboard (GET /api/v1/supervisor/ws: a
// "wallboard" snapshot at once, then one on each change), the agents with
// their controls (POST /api/v1/agents/{id}/not-ready and .../sign-out),
// today's curves per 15 minutes and a history table with its CSV, both from
// GET /api/v1/stats. The timers (longest wait, time in state, call
// duration) run on between messages from the time each message arrived.
// Everything from the server is set with textContent or as attributes:
// nothing is parsed as HTML. No inline script or handler: the page runs
// under the pages' strict Content-Security-Policy.
//
// Listening in: the page is also the supervisor's own softphone (softphone.js:
// the agent socket GET /api/v1/agent/ws, its peer connection and the
// microphone; a supervisor in no queue is signed out there and never offered
// calls). Each agent's bridged call has Listen, Whisper and Barge (and Stop
// on the call being monitored), which POST /api/v1/calls/{id}/monitor
// {mode}; the server's monitor message on the softphone says which call is
// monitored in which mode (#monitor), and a monitor "off" why it ended. The
// caller and the agent are never told.

(function () {
  const I18N = window.HotlineI18n;
  const t = I18N.t;
  const $ = (id) => document.getElementById(id);

  const TICK_MS = 250; // timers move within a second
  const TODAY_EVERY_MS = 60 * 1000; // today's curves are read again each minute
  const DEFAULT_T_S = 20; // KPI.md's service level threshold when a queue names none
  const DEFAULT_SHORT_S = 5; // KPI.md's short-abandon threshold
  const STATE_ORDER = ['ready', 'offered', 'on_call', 'on_hold', 'consult', 'wrap_up', 'not_ready', 'signed_out'];
  const AUTO_REASONS = new Set(['missed_call', 'disconnected', 'rejected']); // set by the ACD, not chosen

  const app = {
    csrf: '',
    leaving: false,
    forbidden: false,
    ws: null,
    wsTries: 0,
    board: null, // the last wallboard message
    recvAt: 0, // Date.now() when it arrived
    drawnAt: 0, // and when it was on screen
    tiles: new Map(), // queue name → {el, q}
    rows: new Map(), // agent id → {el, a}
    busy: new Set(), // agents with a request in flight
    reasons: new Set(), // not-ready reasons seen or listed by the API
    signOutOf: '', // the agent the sign-out dialog asks about
    today: null, // today's stats report
    todayAt: 0,
    charts: { calls: null, sl: null },
    hist: null, // the history report shown
    histQuery: '', // its query
    loadingHist: 0,
    messages: {}, // element id → {key, params}: redrawn on a language switch
    noTZ: false, // the server does not know the browser's time zone: its own is used
    phone: null, // the softphone (softphone.js)
    mon: null, // the monitor message of the call being monitored; null: none
    monBusy: false, // a monitor request is in flight
  };

  // Modes of listening in, in the order of the buttons.
  const MODES = ['listen', 'whisper', 'barge'];

  function show(el, on) { el.hidden = !on; }

  // say shows the text key in the element id (or hides it when key is
  // null) and keeps it for a language switch.
  function say(id, key, params) {
    const el = $(id);
    if (key) app.messages[id] = { key, params };
    else delete app.messages[id];
    el.textContent = key ? t(key, params) : '';
    show(el, !!key);
  }

  function errText(e) { return String((e && e.message) || e); }

  function norm(code) { return String(code || '').trim().toLowerCase().replace(/[\s-]+/g, '_'); }

  function stateText(s) {
    const k = 'state_' + s;
    return I18N.has(k) ? t(k) : String(s || '');
  }

  function reasonText(code) {
    const k = 'reason_' + norm(code);
    return I18N.has(k) ? t(k) : String(code || '');
  }

  function clock(ms) {
    const s = Math.max(0, Math.floor((ms || 0) / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h > 0 ? h + ':' + String(m).padStart(2, '0') + ':' + ss : m + ':' + ss;
  }

  function num(v, digits) {
    try {
      return new Intl.NumberFormat(I18N.lang(), { maximumFractionDigits: digits || 0 }).format(v);
    } catch (e) {
      return String(v);
    }
  }

  // pct shows a ratio (0..1) as a percentage; '—' when there is none.
  function pct(v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return t('none');
    try {
      return new Intl.NumberFormat(I18N.lang(), { style: 'percent', maximumFractionDigits: 1 }).format(v);
    } catch (e) {
      return (Math.round(v * 1000) / 10) + '%';
    }
  }

  // secs shows a duration: whole seconds under a minute, m:ss above.
  function secs(ms) {
    const s = Math.round((ms || 0) / 1000);
    return s < 60 ? t('sup_seconds', { n: s }) : clock(s * 1000);
  }

  function timeOfDay(ms) {
    try {
      return new Intl.DateTimeFormat(I18N.lang(), { timeStyle: 'medium' }).format(new Date(ms));
    } catch (e) {
      return new Date(ms).toLocaleTimeString();
    }
  }

  // localDate is the YYYY-MM-DD of d in the browser's zone.
  function localDate(d) {
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }

  function timeZone() {
    if (app.noTZ) return '';
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch (e) {
      return '';
    }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // label is an element whose text is the key, redrawn by I18N.apply.
  function label(tag, cls, key) {
    const e = el(tag, cls, t(key));
    e.dataset.i18n = key;
    return e;
  }

  // ---- HTTP ---------------------------------------------------------------

  function toLogin() {
    app.leaving = true;
    if (app.phone) app.phone.leave(1000, 'signed out');
    location.replace('/login?next=' + encodeURIComponent(location.pathname + location.search));
  }

  async function errorText(resp) {
    try {
      const body = await resp.json();
      if (body && body.error) return body.error;
    } catch (e) { /* not JSON */ }
    return 'HTTP ' + resp.status;
  }

  // loadMe reads the session: 'supervisor', 'agent', or '' when the page is
  // going to the sign-in page.
  async function loadMe() {
    const resp = await fetch('/api/v1/me', { credentials: 'same-origin', cache: 'no-store' });
    if (resp.status === 401) {
      toLogin();
      return '';
    }
    if (!resp.ok) throw new Error('HTTP ' + resp.status);
    const me = await resp.json();
    app.csrf = me.csrf || '';
    $('user-name').textContent = me.name || me.username || me.id || '';
    return me.role === 'supervisor' || me.role === 'admin' ? 'supervisor' : 'agent';
  }

  async function logout() {
    app.leaving = true;
    if (app.ws) app.ws.close(1000, 'sign out');
    if (app.phone) app.phone.leave(1000, 'sign out');
    try {
      await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': app.csrf } });
    } catch (e) { /* going to the sign-in page anyway */ }
    location.assign('/login');
  }

  // forbid shows the refusal for an agent's session and stops everything.
  function forbid() {
    app.forbidden = true;
    if (app.ws) app.ws.close(1000, 'not a supervisor');
    if (app.phone) app.phone.leave(1000, 'not a supervisor');
    show($('sup-content'), false);
    show($('conn'), false);
    show($('sup-forbidden'), true);
  }

  // stats reads GET /api/v1/stats with the query; null when the page
  // leaves or refuses, else {report} or {error}.
  async function stats(query) {
    let resp;
    try {
      resp = await fetch('/api/v1/stats?' + query, { credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      return { error: errText(e) };
    }
    if (resp.status === 401) {
      toLogin();
      return null;
    }
    if (resp.status === 403) {
      forbid();
      return null;
    }
    if (!resp.ok) {
      const error = await errorText(resp);
      const q = new URLSearchParams(query);
      if (resp.status === 400 && q.has('tz') && /^tz /.test(error)) {
        app.noTZ = true; // a zone the server's tz database lacks: ask in the server's own
        q.delete('tz');
        return stats(q.toString());
      }
      return { error };
    }
    try {
      return { report: await resp.json() };
    } catch (e) {
      return { error: errText(e) };
    }
  }

  // ---- the wallboard socket ------------------------------------------------

  function setConn(key, up) {
    const c = $('conn');
    c.dataset.i18n = key;
    c.textContent = t(key);
    c.classList.toggle('conn-up', up);
    c.classList.toggle('conn-down', !up);
  }

  function connect() {
    if (app.leaving || app.forbidden) return;
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/supervisor/ws');
    app.ws = ws;
    ws.addEventListener('open', () => {
      app.wsTries = 0;
      setConn('conn_up', true);
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!msg || msg.type !== 'wallboard' || msg.v !== 1) return; // the only message of protocol v1
      app.board = msg;
      app.recvAt = Date.now();
      drawBoard();
      app.drawnAt = Date.now();
    });
    ws.addEventListener('close', () => {
      if (app.ws !== ws) return;
      app.ws = null;
      if (app.leaving || app.forbidden) return;
      setConn('conn_down', false);
      reconnect();
    });
  }

  // reconnect checks the session (a refused socket gives the browser no
  // status) and opens the socket again after a back-off.
  async function reconnect() {
    const wait = Math.min(10000, 500 * 2 ** Math.min(app.wsTries, 5));
    app.wsTries++;
    await new Promise((r) => setTimeout(r, wait));
    try {
      const role = await loadMe();
      if (!role) return;
      if (role !== 'supervisor') {
        forbid();
        return;
      }
    } catch (e) { /* the server is away: try the socket again anyway */ }
    connect();
  }

  // ---- queue tiles ----------------------------------------------------------

  function thresholdS(q) {
    const s = q && q.today && q.today.service_level_threshold_s;
    return s > 0 ? s : DEFAULT_T_S;
  }

  function shortS() {
    const s = app.today && app.today.thresholds && app.today.thresholds.short_abandon_s;
    return typeof s === 'number' && s >= 0 ? s : DEFAULT_SHORT_S;
  }

  function figure(dl, cls, key) {
    const box = el('div', 'fig ' + cls + '-box');
    box.append(label('span', 'fig-label', key), el('span', 'fig-value ' + cls));
    dl.appendChild(box);
    return box;
  }

  function newTile(name) {
    const tile = el('article', 'tile');
    tile.id = 'tile-' + name;
    tile.dataset.queue = name;
    tile.appendChild(el('h3', 'tile-name', name));
    const now = el('div', 'tile-now');
    figure(now, 'tile-waiting', 'sup_waiting');
    figure(now, 'tile-longest', 'sup_longest');
    tile.appendChild(now);
    const day = el('div', 'tile-day');
    figure(day, 'tile-sl', 'sup_sl_today');
    figure(day, 'tile-asa', 'sup_asa');
    figure(day, 'tile-abandon', 'sup_abandon_rate');
    tile.appendChild(day);
    tile.appendChild(el('p', 'tile-counts'));
    tile.appendChild(el('p', 'tile-live'));
    tile.appendChild(el('ul', 'tile-states'));
    return tile;
  }

  function fillTile(tile, q) {
    const d = q.today || {};
    const T = thresholdS(q);
    const sub = (cls) => tile.querySelector('.' + cls);
    sub('tile-waiting').textContent = num(q.waiting || 0);
    tile.dataset.waiting = String(q.waiting || 0);
    sub('tile-longest-box').title = t('sup_longest_title', { t: T, t3: 3 * T });
    sub('tile-sl').textContent = pct(d.service_level);
    sub('tile-sl-box').title = t('sup_sl_title', { t: T, s: shortS() });
    sub('tile-asa').textContent = d.answered > 0 ? secs(d.asa_ms) : t('none');
    sub('tile-asa-box').title = t('sup_asa_title');
    sub('tile-abandon').textContent = pct(d.abandon_rate);
    sub('tile-abandon-box').title = t('sup_abandon_title', { s: shortS() });
    sub('tile-counts').textContent = t('sup_counts', { o: num(d.offered || 0), a: num(d.answered || 0), b: num(d.abandoned || 0) });
    sub('tile-live').textContent = t('sup_live', { r: num(q.ringing || 0), k: num(q.talking || 0), s: num(q.staffed || 0), i: num(q.signed_in || 0) });
    const ul = sub('tile-states');
    ul.textContent = '';
    const by = q.agents || {};
    const states = STATE_ORDER.filter((s) => by[s] > 0).concat(Object.keys(by).filter((s) => by[s] > 0 && !STATE_ORDER.includes(s)));
    for (const s of states) {
      const li = el('li', 'badge state-' + s, stateText(s) + ' ' + num(by[s]));
      li.dataset.state = s;
      li.dataset.count = String(by[s]);
      ul.appendChild(li);
    }
  }

  function drawTiles(queues) {
    const box = $('tiles');
    const seen = new Set();
    for (const q of queues) {
      if (!q || typeof q.name !== 'string') continue;
      seen.add(q.name);
      let tile = app.tiles.get(q.name);
      if (!tile) {
        tile = { el: newTile(q.name) };
        app.tiles.set(q.name, tile);
      }
      tile.q = q;
      box.appendChild(tile.el); // in the message's order
      fillTile(tile.el, q);
    }
    for (const [name, tile] of app.tiles) {
      if (!seen.has(name)) {
        tile.el.remove();
        app.tiles.delete(name);
      }
    }
    show($('tiles-empty'), app.tiles.size === 0);
  }

  // ---- agents ---------------------------------------------------------------

  function newRow(id) {
    const tr = el('tr', 'agent-row');
    tr.id = 'agent-' + id;
    tr.dataset.id = id;
    tr.appendChild(el('td', 'ag-id', id));
    const st = el('td', 'ag-state');
    st.appendChild(el('span', 'badge ag-state-text'));
    tr.appendChild(st);
    tr.appendChild(el('td', 'ag-timer timer'));
    tr.appendChild(el('td', 'ag-reason'));
    const call = el('td', 'ag-call');
    call.append(el('span', 'ag-call-from'), el('span', 'ag-call-queue'), el('span', 'ag-call-timer timer'));
    tr.appendChild(call);
    tr.appendChild(el('td', 'ag-handled'));
    tr.appendChild(el('td', 'ag-connected'));
    const acts = el('td', 'ag-actions');
    const nr = label('button', 'ag-not-ready', 'btn_not_ready');
    nr.type = 'button';
    nr.id = 'nr-' + id;
    nr.addEventListener('click', () => notReady(id));
    const so = label('button', 'ag-sign-out bad', 'sup_btn_sign_out');
    so.type = 'button';
    so.id = 'so-' + id;
    so.addEventListener('click', () => askSignOut(id));
    acts.append(nr, so);
    const mon = el('span', 'ag-monitor');
    for (const mode of MODES.concat('off')) {
      const b = label('button', 'ag-mon ag-mon-' + mode + (mode === 'off' ? ' bad' : ''), mode === 'off' ? 'sup_btn_stop' : 'sup_btn_' + mode);
      b.type = 'button';
      b.id = 'mon-' + mode + '-' + id;
      b.dataset.mode = mode;
      b.addEventListener('click', () => {
        const row = app.rows.get(id);
        const c = row && row.a && row.a.call;
        if (c && c.id) monitor(c.id, mode);
      });
      mon.appendChild(b);
    }
    acts.appendChild(mon);
    tr.appendChild(acts);
    return tr;
  }

  function fillRow(tr, a) {
    const sub = (cls) => tr.querySelector('.' + cls);
    tr.dataset.state = a.state || '';
    tr.dataset.connected = String(!!a.connected);
    const st = sub('ag-state-text');
    st.className = 'badge ag-state-text state-' + (a.state || '');
    st.textContent = stateText(a.state);
    sub('ag-reason').textContent = a.reason ? reasonText(a.reason) : '';
    sub('ag-reason').title = a.reason || '';
    const c = a.call;
    sub('ag-call-from').textContent = c ? (c.from || t('unknown_caller')) : t('none');
    sub('ag-call-queue').textContent = c && c.queue ? c.queue : '';
    sub('ag-call').dataset.call = c ? (c.id || '') : '';
    sub('ag-handled').textContent = num(a.handled_today || 0);
    const conn = sub('ag-connected');
    conn.textContent = t(a.connected ? 'sup_connected' : 'sup_disconnected');
    conn.dataset.connected = String(!!a.connected);
    const busy = app.busy.has(a.id);
    sub('ag-not-ready').disabled = busy || a.state === 'signed_out';
    sub('ag-sign-out').disabled = busy || a.state === 'signed_out';
    fillMonitorButtons(tr, a);
  }

  // bridged: an agent is on the call, so it can be monitored (a ringing
  // call has no answer time yet).
  function bridged(a) {
    return !!(a && a.call && a.call.id && a.call.since > 0 && (a.state === 'on_call' || a.state === 'on_hold'));
  }

  // fillMonitorButtons offers the modes on an agent's bridged call; the
  // one under way is pressed, and Stop shows on the monitored call only.
  function fillMonitorButtons(tr, a) {
    const callId = bridged(a) ? a.call.id : '';
    const mine = !!callId && !!app.mon && app.mon.call_id === callId;
    tr.dataset.monitored = mine ? app.mon.mode : '';
    const box = tr.querySelector('.ag-monitor');
    show(box, !!callId);
    for (const b of box.querySelectorAll('button.ag-mon')) {
      const mode = b.dataset.mode;
      const on = mine && app.mon.mode === mode;
      b.setAttribute('aria-pressed', String(on));
      b.disabled = app.monBusy || on || !(app.phone && app.phone.up());
      if (mode === 'off') show(b, mine);
    }
  }

  function drawAgents(agents) {
    const body = $('agent-rows');
    const seen = new Set();
    for (const a of agents) {
      if (!a || typeof a.id !== 'string') continue;
      seen.add(a.id);
      let row = app.rows.get(a.id);
      if (!row) {
        row = { el: newRow(a.id) };
        app.rows.set(a.id, row);
      }
      row.a = a;
      body.appendChild(row.el);
      fillRow(row.el, a);
      if (a.reason && !AUTO_REASONS.has(norm(a.reason))) learnReasons([a.reason]);
    }
    for (const [id, row] of app.rows) {
      if (!seen.has(id)) {
        row.el.remove();
        app.rows.delete(id);
      }
    }
    show($('agents-empty'), app.rows.size === 0);
  }

  function learnReasons(list) {
    let added = false;
    for (const r of list) {
      const v = String(r || '').trim();
      if (v && !app.reasons.has(v)) {
        app.reasons.add(v);
        added = true;
      }
    }
    if (!added) return;
    const dl = $('nr-reasons');
    dl.textContent = '';
    for (const r of [...app.reasons].sort()) {
      const o = document.createElement('option');
      o.value = r;
      o.textContent = reasonText(r);
      dl.appendChild(o);
    }
  }

  // ---- the board and its timers ---------------------------------------------

  function drawBoard() {
    const m = app.board;
    if (!m) return;
    const queues = Array.isArray(m.queues) ? m.queues : [];
    drawTiles(queues);
    drawAgents(Array.isArray(m.agents) ? m.agents : []);
    knowQueues(queues.map((q) => q && q.name).filter((n) => typeof n === 'string'));
    if (m.today && m.today.error) say('today-error', 'sup_today_error', { m: m.today.error });
    else say('today-error', null);
    $('board-at').textContent = m.today && m.today.at ? t('sup_today_at', { t: timeOfDay(m.today.at) }) : '';
    tick();
  }

  // tick moves the timers: the time since the message came is added to
  // what it said.
  function tick() {
    const m = app.board;
    if (!m) return;
    const gone = Math.max(0, Date.now() - app.recvAt);
    const at = typeof m.at === 'number' ? m.at : app.recvAt;
    for (const { el: tile, q } of app.tiles.values()) {
      const wait = q.waiting > 0 ? Math.max(0, (q.longest_wait_ms || 0) + gone) : 0;
      const T = thresholdS(q) * 1000;
      const level = wait > 3 * T ? 'bad' : wait > T ? 'warn' : 'ok';
      const v = tile.querySelector('.tile-longest');
      v.textContent = clock(wait);
      v.dataset.ms = String(wait);
      tile.querySelector('.tile-longest-box').dataset.level = level;
      tile.dataset.level = level;
    }
    for (const { el: tr, a } of app.rows.values()) {
      const timer = tr.querySelector('.ag-timer');
      timer.textContent = a.since > 0 ? clock(at - a.since + gone) : '';
      const ct = tr.querySelector('.ag-call-timer');
      if (!a.call) ct.textContent = '';
      else if (a.call.since > 0) ct.textContent = clock(at - a.call.since + gone);
      else ct.textContent = t('state_offered');
    }
  }

  // ---- agent controls ---------------------------------------------------------

  async function post(path, body) {
    const resp = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': app.csrf },
      body: JSON.stringify(body || {}),
    });
    if (resp.status === 401) {
      toLogin();
      return null;
    }
    return resp;
  }

  function setBusy(id, on) {
    if (on) app.busy.add(id);
    else app.busy.delete(id);
    const row = app.rows.get(id);
    if (row) fillRow(row.el, row.a);
  }

  // act posts one agent control and shows how it went; params fill the
  // texts (a: the agent, m: the refusal).
  async function act(id, path, body, doneKey, failKey, params) {
    if (app.busy.has(id)) return;
    const p = Object.assign({ a: id }, params);
    say('action-error', null);
    say('action-done', null);
    setBusy(id, true);
    try {
      const resp = await post(path, body);
      if (!resp) return;
      if (!resp.ok) {
        const m = await errorText(resp);
        const listed = /\(the reasons are ([^)]*)\)/.exec(m); // a 400 names the configured reasons
        if (listed) learnReasons(listed[1].split(',').map((s) => s.trim()));
        say('action-error', failKey, Object.assign({ m }, p));
        return;
      }
      say('action-done', doneKey, p);
    } catch (e) {
      say('action-error', failKey, Object.assign({ m: errText(e) }, p));
    } finally {
      setBusy(id, false);
    }
  }

  function notReady(id) {
    const reason = $('nr-reason').value.trim();
    act(id, '/api/v1/agents/' + encodeURIComponent(id) + '/not-ready', { reason },
      reason ? 'sup_nr_done_reason' : 'sup_nr_done', 'sup_nr_failed', { r: reason });
  }

  function askSignOut(id) {
    app.signOutOf = id;
    $('signout-text').textContent = t('sup_signout_confirm', { a: id });
    const d = $('signout-dialog');
    if (typeof d.showModal === 'function') d.showModal();
    else d.open = true;
  }

  function answerSignOut(yes) {
    const id = app.signOutOf;
    app.signOutOf = '';
    $('signout-dialog').close();
    if (!yes || !id) return;
    act(id, '/api/v1/agents/' + encodeURIComponent(id) + '/sign-out', {}, 'sup_so_done', 'sup_so_failed');
  }

  // ---- listening in: the supervisor's softphone --------------------------------

  function setPhoneConn(key, up) {
    const c = $('phone-conn');
    const k = { conn_up: 'sup_phone_up', conn_down: 'sup_phone_down', conn_replaced: 'sup_phone_replaced' }[key] || 'sup_phone_connecting';
    c.dataset.i18n = k;
    c.textContent = t(k);
    c.classList.toggle('conn-up', up);
    c.classList.toggle('conn-down', !up);
    drawMonitorButtons();
  }

  function showMicError(e) {
    if (!e) {
      delete app.messages['mic-status'];
      show($('mic-status'), false);
      return;
    }
    const key = e.name === 'NotAllowedError' || e.name === 'SecurityError' ? 'mic_denied' : 'mic_failed';
    say('mic-status', key, { m: e.message || e.name || '' });
  }

  function startPhone() {
    app.phone = window.HotlineSoftphone.create({
      audio: $('remote-audio'),
      raw: new URLSearchParams(location.search).get('audio') === 'raw',
      onMessage: onPhoneMessage,
      onConn: setPhoneConn,
      onReplaced: () => {
        setMonitor(null);
        say('monitor-error', 'sup_phone_replaced_text');
      },
      onMic: showMicError,
      onAudioFailed: () => say('monitor-error', 'audio_failed'),
      onSendFailed: () => {},
      reauth: async () => {
        const role = await loadMe();
        if (role !== 'supervisor') {
          if (role) forbid();
          return false;
        }
        return true;
      },
    });
    app.phone.connect();
  }

  function onPhoneMessage(msg) {
    if (!msg || msg.v !== window.HotlineSoftphone.PROTOCOL) return;
    switch (msg.type) {
      case 'welcome':
        setMonitor(msg.monitor && msg.monitor.call_id && msg.monitor.mode !== 'off' ? msg.monitor : null);
        return;
      case 'monitor':
        if (msg.mode === 'off') {
          if (app.mon && app.mon.call_id === msg.call_id) setMonitor(null);
          const k = 'sup_mon_ended_' + norm(msg.reason);
          say('monitor-ended', I18N.has(k) ? k : 'sup_mon_ended_off');
          return;
        }
        say('monitor-ended', null);
        setMonitor(msg);
        return;
      case 'error':
        say('monitor-error', 'sup_mon_phone_error', { m: msg.message || msg.code || '?' });
        return;
      default:
        return; // state, pong: a supervisor's softphone is no agent's
    }
  }

  function setMonitor(m) {
    app.mon = m ? { call_id: m.call_id, mode: m.mode, from: m.from || '', queue: m.queue || '', agent: m.agent || '' } : null;
    drawMonitor();
  }

  // drawMonitor shows the call being monitored and the mode; the caller and
  // the agent see nothing of it.
  function drawMonitor() {
    const m = app.mon;
    show($('monitor-none'), !m);
    show($('monitor-on'), !!m);
    $('monitor').dataset.mode = m ? m.mode : '';
    $('monitor').dataset.call = m ? m.call_id : '';
    if (m) {
      const mode = $('monitor-mode');
      mode.textContent = t('sup_mode_' + m.mode);
      mode.className = 'badge mon-mode mon-' + m.mode + (m.mode === 'listen' ? ' badge-live' : ' badge-held');
      $('monitor-what').textContent = t('sup_mon_what', { f: m.from || t('unknown_caller'), q: m.queue || t('none'), a: m.agent || t('none') });
      $('monitor-hint').textContent = t('sup_mode_hint_' + m.mode);
      for (const b of $('monitor-on').querySelectorAll('button')) {
        b.setAttribute('aria-pressed', String(b.dataset.mode === m.mode));
        b.disabled = app.monBusy || b.dataset.mode === m.mode;
      }
    }
    drawMonitorButtons();
  }

  function drawMonitorButtons() {
    for (const { el: tr, a } of app.rows.values()) fillMonitorButtons(tr, a);
  }

  // monitor asks the server to put this supervisor on the call in mode (or
  // off it). Another call under way is left first: the server keeps a
  // supervisor on one call at a time.
  async function monitor(callId, mode) {
    if (app.monBusy || !callId) return;
    say('monitor-error', null);
    say('monitor-ended', null);
    app.monBusy = true;
    drawMonitor();
    try {
      if (mode !== 'off' && app.mon && app.mon.call_id !== callId) {
        const prev = await post('/api/v1/calls/' + encodeURIComponent(app.mon.call_id) + '/monitor', { mode: 'off' });
        if (!prev) return;
      }
      const resp = await post('/api/v1/calls/' + encodeURIComponent(callId) + '/monitor', { mode });
      if (!resp) return;
      if (resp.status === 403) {
        forbid();
        return;
      }
      if (!resp.ok) say('monitor-error', 'sup_mon_failed', { m: await errorText(resp) });
      // On success the softphone's monitor message shows the new mode.
    } catch (e) {
      say('monitor-error', 'sup_mon_failed', { m: errText(e) });
    } finally {
      app.monBusy = false;
      drawMonitor();
    }
  }

  // ---- queues known to the page (history filter, chart pick) ------------------

  function knowQueues(names) {
    const box = $('h-queues');
    const sel = $('chart-queue');
    for (const name of names) {
      if (!box.querySelector('input[value="' + CSS.escape(name) + '"]')) {
        const lab = el('label', 'h-queue-label');
        const cb = document.createElement('input');
        cb.type = 'checkbox';
        cb.className = 'h-queue';
        cb.id = 'h-q-' + name;
        cb.value = name;
        cb.addEventListener('change', updateCSV);
        lab.append(cb, el('span', '', name));
        box.appendChild(lab);
      }
      if (![...sel.options].some((o) => o.value === name)) {
        const o = document.createElement('option');
        o.value = name;
        o.textContent = name;
        sel.appendChild(o);
      }
    }
  }

  // ---- today's curves ------------------------------------------------------------

  async function loadToday() {
    const q = new URLSearchParams({ from: localDate(new Date()), bucket: '15m' });
    const tz = timeZone();
    if (tz) q.set('tz', tz);
    const res = await stats(q.toString());
    if (!res) return;
    if (res.error) {
      say('chart-error', 'sup_chart_failed', { m: res.error });
      return;
    }
    say('chart-error', null);
    app.today = res.report;
    app.todayAt = Date.now();
    const r = app.today;
    knowQueues((r.total && Array.isArray(r.total.queues) ? r.total.queues : []).map((s) => s.queue).filter(Boolean));
    drawCharts();
    if (app.board) drawBoard(); // the short-abandon threshold of the tiles' titles
  }

  function pick(bucket) {
    const name = $('chart-queue').value;
    if (!name) return bucket.all_queues || {};
    return (Array.isArray(bucket.queues) ? bucket.queues : []).find((s) => s.queue === name) || {};
  }

  function value(f) {
    return f && typeof f.value === 'number' ? f.value : null;
  }

  function chartData() {
    const r = app.today;
    const buckets = r && Array.isArray(r.buckets) ? r.buckets : [];
    const x = [], offered = [], answered = [], sl = [];
    for (const b of buckets) {
      const s = pick(b);
      x.push(Date.parse(b.start) / 1000);
      offered.push(value(s.offered) ?? 0);
      answered.push(value(s.answered) ?? 0);
      const v = value(s.sl_default);
      sl.push(v === null ? null : Math.round(v * 1000) / 10);
    }
    return { x, offered, answered, sl };
  }

  // slName names the charted service level's variant and thresholds as the
  // API gives them.
  function slName() {
    const r = app.today;
    const total = r && r.total ? pick(r.total) : {};
    const f = total.sl_default || {};
    const T = typeof f.threshold_s === 'number' ? t('sup_seconds', { n: f.threshold_s }) : f.threshold_per_queue ? t('sup_t_per_queue') : t('sup_seconds', { n: DEFAULT_T_S });
    const s = typeof f.short_abandon_s === 'number' ? f.short_abandon_s : shortS();
    return t('sup_sl_variant', { v: f.variant || 'b', t: T, s: t('sup_seconds', { n: s }) });
  }

  function chartWidth(box) {
    return Math.max(240, Math.floor(box.clientWidth || 600));
  }

  function makeCharts(data) {
    const U = window.uPlot;
    const bars = U.paths && U.paths.bars;
    const callsBox = $('chart-calls');
    const slBox = $('chart-sl');
    // The time axis in the page's language (uPlot's own labels are English).
    const hm = (() => {
      try {
        return new Intl.DateTimeFormat(I18N.lang(), { hour: '2-digit', minute: '2-digit' });
      } catch (e) {
        return null;
      }
    })();
    const xAxis = { values: (u, splits) => splits.map((v) => (hm ? hm.format(new Date(v * 1000)) : new Date(v * 1000).toLocaleTimeString())) };
    const common = (box) => ({
      width: chartWidth(box),
      height: 200,
      scales: { x: { time: true } },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    });
    app.charts.calls = new U(Object.assign(common(callsBox), {
      series: [
        {},
        { label: t('sup_series_offered'), stroke: '#2563eb', fill: 'rgba(37, 99, 235, .25)', paths: bars ? bars({ size: [0.8, 40] }) : undefined, points: { show: false } },
        { label: t('sup_series_answered'), stroke: '#1f8a4c', fill: 'rgba(31, 138, 76, .6)', paths: bars ? bars({ size: [0.45, 24] }) : undefined, points: { show: false } },
      ],
      axes: [xAxis, { label: t('sup_axis_calls') }],
    }), [data.x, data.offered, data.answered], callsBox);
    app.charts.sl = new U(Object.assign(common(slBox), {
      series: [
        {},
        { label: t('sup_series_sl'), stroke: '#b7791f', width: 2, points: { show: true, size: 5 } },
      ],
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [xAxis, { label: '%' }],
    }), [data.x, data.sl], slBox);
  }

  function dropCharts() {
    for (const k of ['calls', 'sl']) {
      if (app.charts[k]) app.charts[k].destroy();
      app.charts[k] = null;
    }
  }

  function drawCharts() {
    if (!app.today) return;
    const data = chartData();
    $('chart-sl-variant').textContent = slName();
    show($('chart-empty'), !data.offered.some((n) => n > 0));
    if (app.today.as_of) $('chart-at').textContent = t('sup_as_of', { t: timeOfDay(Date.parse(app.today.as_of)) });
    if (!window.uPlot) {
      say('chart-error', 'sup_chart_failed', { m: 'uPlot did not load' });
      return;
    }
    if (!app.charts.calls) {
      makeCharts(data);
      return;
    }
    app.charts.calls.setData([data.x, data.offered, data.answered]);
    app.charts.sl.setData([data.x, data.sl]);
  }

  function resizeCharts() {
    for (const [k, id] of [['calls', 'chart-calls'], ['sl', 'chart-sl']]) {
      const u = app.charts[k];
      if (u) u.setSize({ width: chartWidth($(id)), height: 200 });
    }
  }

  // ---- history ---------------------------------------------------------------------

  // histParams reads the history form; null (and an error) when it makes
  // no sense.
  function histParams() {
    const from = $('h-from').value;
    const to = $('h-to').value;
    if (!from || !to) {
      say('hist-error', 'sup_hist_need_dates');
      return null;
    }
    if (from > to) {
      say('hist-error', 'sup_hist_bad_range');
      return null;
    }
    const q = new URLSearchParams({ from, to, bucket: $('h-bucket').value });
    const queues = [...document.querySelectorAll('#h-queues input.h-queue:checked')].map((c) => c.value);
    if (queues.length) q.set('queue', queues.join(','));
    const tz = timeZone();
    if (tz) q.set('tz', tz);
    return q;
  }

  function updateCSV() {
    const q = histParams();
    if (!q) return;
    say('hist-error', null);
    q.set('format', 'csv');
    $('h-csv').href = '/api/v1/stats?' + q.toString();
  }

  async function loadHistory() {
    const q = histParams();
    if (!q) return;
    say('hist-error', null);
    updateCSV();
    q.set('format', 'json');
    const query = q.toString();
    const gen = ++app.loadingHist;
    $('h-apply').disabled = true;
    const res = await stats(query);
    if (gen !== app.loadingHist) return;
    $('h-apply').disabled = false;
    if (!res) return;
    if (res.error) {
      say('hist-error', 'sup_hist_failed', { m: res.error });
      return;
    }
    app.hist = res.report;
    app.histQuery = query;
    if (app.noTZ) updateCSV(); // without the zone the server refused
    drawHistory();
  }

  // figureKeys are the figures of a queue's stats, in the API's order.
  function figureKeys(s) {
    return Object.keys(s || {}).filter((k) => s[k] && typeof s[k] === 'object' && typeof s[k].key === 'string');
  }

  function kpiLabel(key) {
    const k = 'kpi_' + key;
    return I18N.has(k) ? t(k) : key;
  }

  // variantText names a figure's KPI, variant, thresholds and unit as the
  // API returned them.
  function variantText(f) {
    const parts = [(f.name || f.key) + (f.variant ? ' ' + f.variant : '')];
    if (typeof f.threshold_s === 'number') parts.push('T=' + t('sup_seconds', { n: f.threshold_s }));
    else if (f.threshold_per_queue) parts.push(t('sup_t_per_queue'));
    if (typeof f.short_abandon_s === 'number') parts.push(t('sup_short_lt', { s: t('sup_seconds', { n: f.short_abandon_s }) }));
    if (f.unit) parts.push(unitText(f.unit));
    return parts.join('; ');
  }

  function unitText(u) {
    const k = 'sup_unit_' + u;
    return I18N.has(k) ? t(k) : u;
  }

  function figureText(f) {
    if (!f || typeof f.value !== 'number') return t('none');
    switch (f.unit) {
      case 'ratio': return pct(f.value);
      case 'seconds': return t('sup_seconds', { n: num(f.value, 1) });
      default: return num(f.value, 2);
    }
  }

  function bucketText(iso, tz, day) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso || '');
    const opt = day ? { dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' };
    try {
      return new Intl.DateTimeFormat(I18N.lang(), tz ? Object.assign({ timeZone: tz }, opt) : opt).format(d);
    } catch (e) {
      return new Intl.DateTimeFormat(I18N.lang(), opt).format(d);
    }
  }

  function drawHistory() {
    const r = app.hist;
    const head = $('hist-head');
    const body = $('hist-rows');
    head.textContent = '';
    body.textContent = '';
    if (!r) return;
    const buckets = Array.isArray(r.buckets) ? r.buckets : [];
    const sample = (r.total && r.total.all_queues) || (buckets[0] && buckets[0].all_queues) || {};
    const keys = figureKeys(sample);
    const hr = document.createElement('tr');
    hr.appendChild(label('th', 'hist-when', 'sup_col_bucket'));
    hr.appendChild(label('th', 'hist-queue', 'queue'));
    for (const k of keys) {
      const th = el('th', 'hist-kpi');
      th.dataset.key = k;
      const v = variantText(sample[k]);
      th.title = v;
      th.append(el('span', 'kpi-label', kpiLabel(k)), el('span', 'kpi-variant', v));
      hr.appendChild(th);
    }
    head.appendChild(hr);
    const day = r.bucket === '1d';
    const addRow = (cls, when, name, s) => {
      const tr = el('tr', 'hist-row ' + cls);
      tr.dataset.queue = name;
      tr.appendChild(el('td', 'hist-when', when));
      tr.appendChild(el('td', 'hist-queue', name || t('sup_all_queues')));
      for (const k of keys) {
        const f = s[k];
        const td = el('td', 'hist-val', figureText(f));
        td.dataset.key = k;
        if (f && typeof f.numerator === 'number' && typeof f.denominator === 'number') {
          td.title = num(f.numerator, 3) + ' ÷ ' + num(f.denominator, 3);
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    };
    for (const b of buckets) {
      const when = bucketText(b.start, r.tz, day);
      const qs = Array.isArray(b.queues) ? b.queues : [];
      for (const s of qs) addRow('hist-bucket', when, s.queue, s);
      if (qs.length !== 1 && b.all_queues) addRow('hist-bucket hist-all', when, '', b.all_queues);
    }
    if (buckets.length > 1 && r.total && r.total.all_queues) addRow('hist-total', t('sup_total'), '', r.total.all_queues);
    show($('hist-empty'), buckets.length === 0);
    const info = $('hist-info');
    info.textContent = r.as_of ? t('sup_hist_info', { tz: r.tz || '', t: bucketText(r.as_of, r.tz, false) }) : '';
    show(info, !!r.as_of);
  }

  // ---- language and wiring ---------------------------------------------------------

  function redrawMessages() {
    for (const [id, m] of Object.entries(app.messages)) $(id).textContent = t(m.key, m.params);
  }

  function redrawText() {
    document.title = t('sup_page_title');
    redrawMessages();
    if (app.board) drawBoard();
    for (const o of $('nr-reasons').options) o.textContent = reasonText(o.value);
    if (app.today) {
      dropCharts();
      drawCharts();
    }
    drawHistory();
    if (app.signOutOf) $('signout-text').textContent = t('sup_signout_confirm', { a: app.signOutOf });
    const pc = $('phone-conn');
    pc.textContent = t(pc.dataset.i18n);
    drawMonitor();
  }

  function wire() {
    $('logout').addEventListener('click', logout);
    $('signout-yes').addEventListener('click', () => answerSignOut(true));
    $('signout-no').addEventListener('click', () => answerSignOut(false));
    $('signout-dialog').addEventListener('cancel', () => { app.signOutOf = ''; });
    $('chart-queue').addEventListener('change', drawCharts);
    $('hist-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      loadHistory();
    });
    for (const id of ['h-from', 'h-to', 'h-bucket']) $(id).addEventListener('change', updateCSV);
    window.addEventListener('resize', resizeCharts);
    for (const b of $('monitor-on').querySelectorAll('button')) {
      b.addEventListener('click', () => { if (app.mon) monitor(app.mon.call_id, b.dataset.mode); });
    }
    // Any click lets the page play the call's audio (browsers' autoplay rules).
    document.addEventListener('click', () => {
      const a = $('remote-audio');
      if (a.srcObject && a.paused) a.play().catch(() => {});
    }, { capture: true });
    I18N.onChange(redrawText);
  }

  // A read-only view for tests (not an API).
  window.hotlineSupervisor = {
    board: () => app.board,
    drawnAt: () => app.drawnAt,
    chart: () => chartData(),
    charted: () => app.charts.calls ? app.charts.calls.data.map((a) => Array.from(a)) : null,
    histQuery: () => app.histQuery,
    reasons: () => [...app.reasons].sort(),
    monitor: () => (app.mon ? app.mon.call_id + ' ' + app.mon.mode : ''),
    rtc: () => (app.phone ? app.phone.rtc() : 'none'),
  };

  async function boot() {
    wire();
    document.title = t('sup_page_title');
    const yesterday = new Date();
    yesterday.setDate(yesterday.getDate() - 1);
    $('h-from').value = localDate(yesterday);
    $('h-to').value = localDate(yesterday);
    $('h-bucket').value = '1h';
    updateCSV();
    let role = '';
    for (;;) {
      try {
        role = await loadMe();
        break;
      } catch (e) {
        say('sup-error', 'sup_failed_load', { m: errText(e) });
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    say('sup-error', null);
    if (!role) return;
    if (role !== 'supervisor') {
      forbid();
      return;
    }
    show($('sup-content'), true);
    connect();
    startPhone();
    drawMonitor();
    setInterval(tick, TICK_MS);
    loadToday();
    setInterval(() => { if (!app.leaving && !app.forbidden) loadToday(); }, TODAY_EVERY_MS);
    loadHistory();
  }

  boot();
})();
