// The call recordings page: a table of recordings, newest first, from
// GET /api/v1/recordings (an agent gets only their own: the API enforces
// it), with filters, paging, a player and a download link per row, and for
// supervisors a legal-hold checkbox (PUT /api/v1/recordings/{id}/legal-hold).
// The filters live in the page's query (agent, queue, from, to as RFC 3339,
// call; limit sets the page size), so a link opens the page filtered.
// Everything from the server is set with textContent or as attributes:
// nothing is parsed as HTML.
'use strict';

(function () {
  const I18N = window.HotlineI18n;
  const t = I18N.t;
  const $ = (id) => document.getElementById(id);

  const DEFAULT_LIMIT = 25;
  const FILTERS = ['agent', 'queue', 'from', 'to', 'call'];

  const app = {
    csrf: '',
    username: '',
    supervisor: false,
    filter: {}, // the applied filters, as the API takes them
    limit: DEFAULT_LIMIT,
    cursors: [''], // the cursor of each page seen so far; the last is the page shown
    next: '',
    rows: [], // the recordings shown
    error: null, // {key, params}: redrawn on a language switch
    loading: 0, // generation of the last load; older answers are dropped
  };

  function show(el, on) { el.hidden = !on; }

  function showError(key, params) {
    app.error = key ? { key, params } : null;
    const el = $('rec-error');
    el.textContent = key ? t(key, params) : '';
    show(el, !!key);
  }

  function clock(ms) {
    const s = Math.max(0, Math.floor((ms || 0) / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h > 0 ? h + ':' + String(m).padStart(2, '0') + ':' + ss : m + ':' + ss;
  }

  function when(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return t('none');
    try {
      return new Intl.DateTimeFormat(I18N.lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
    } catch (e) {
      return d.toLocaleString();
    }
  }

  // toInput turns an RFC 3339 time into a datetime-local value (local time).
  function toInput(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return '';
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  // fromInput turns a datetime-local value into RFC 3339 (UTC); '' if empty.
  function fromInput(v) {
    if (!v) return '';
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  function stateText(s) {
    const k = 'rec_state_' + s;
    return I18N.has(k) ? t(k) : String(s || '');
  }

  // ---- HTTP ---------------------------------------------------------------

  function toLogin() {
    location.replace('/login?next=' + encodeURIComponent(location.pathname + location.search));
  }

  async function errorText(resp) {
    try {
      const body = await resp.json();
      if (body && body.error) return body.error;
    } catch (e) { /* not JSON */ }
    return 'HTTP ' + resp.status;
  }

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
    app.supervisor = me.role === 'supervisor' || me.role === 'admin';
    $('user-name').textContent = me.name || app.username;
    return true;
  }

  async function logout() {
    try {
      await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': app.csrf } });
    } catch (e) { /* going to the sign-in page anyway */ }
    location.assign('/login');
  }

  // load fetches the page of the last cursor with the applied filters.
  async function load() {
    const gen = ++app.loading;
    const q = new URLSearchParams();
    for (const k of FILTERS) if (app.filter[k]) q.set(k, app.filter[k]);
    q.set('limit', String(app.limit));
    const cursor = app.cursors[app.cursors.length - 1];
    if (cursor) q.set('cursor', cursor);
    $('rec-next').disabled = true;
    $('rec-prev').disabled = true;
    let resp;
    try {
      resp = await fetch('/api/v1/recordings?' + q.toString(), { credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      if (gen === app.loading) showError('rec_failed_load', { m: String(e && e.message || e) });
      return;
    }
    if (gen !== app.loading) return;
    if (resp.status === 401) {
      toLogin();
      return;
    }
    if (!resp.ok) {
      const m = await errorText(resp);
      if (gen !== app.loading) return;
      showError('rec_failed_load', { m });
      app.rows = [];
      app.next = '';
      draw();
      return;
    }
    const body = await resp.json();
    if (gen !== app.loading) return;
    showError(null);
    app.rows = Array.isArray(body.recordings) ? body.recordings : [];
    app.next = body.next || '';
    draw();
  }

  // ---- drawing ------------------------------------------------------------

  function cell(tr, cls, text) {
    const td = document.createElement('td');
    td.className = cls;
    if (text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function row(r) {
    const tr = document.createElement('tr');
    tr.id = 'rec-row-' + r.id;
    tr.className = 'rec-row';
    tr.dataset.id = r.id;
    tr.dataset.state = r.state || '';
    cell(tr, 'rec-started', when(r.started_at));
    cell(tr, 'rec-duration', clock(r.duration_ms));
    cell(tr, 'rec-queue', r.queue || t('none'));
    const agents = Array.isArray(r.agents) && r.agents.length
      ? r.agents
      : [...new Set((Array.isArray(r.segments) ? r.segments : []).map((s) => s && s.agent).filter(Boolean))];
    cell(tr, 'rec-agents', agents.length ? agents.join(', ') : t('none'));
    const st = cell(tr, 'rec-state', stateText(r.state));
    if (r.reason) st.title = r.reason;

    const player = cell(tr, 'rec-player');
    const file = cell(tr, 'rec-file');
    if (r.audio_url) {
      const audio = document.createElement('audio');
      audio.id = 'rec-audio-' + r.id;
      audio.className = 'rec-audio';
      audio.controls = true;
      audio.preload = 'none';
      audio.src = r.audio_url;
      player.appendChild(audio);
      const a = document.createElement('a');
      a.id = 'rec-download-' + r.id;
      a.className = 'rec-download';
      a.href = r.audio_url + (r.audio_url.includes('?') ? '&' : '?') + 'download=1';
      a.setAttribute('download', '');
      a.dataset.i18n = 'btn_download';
      a.textContent = t('btn_download');
      file.appendChild(a);
    } else {
      player.textContent = t('rec_no_audio');
      file.textContent = t('none');
    }

    if (app.supervisor) {
      const td = cell(tr, 'rec-hold');
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = 'rec-hold-' + r.id;
      box.className = 'rec-hold-box';
      box.checked = !!r.legal_hold;
      box.addEventListener('change', () => setHold(r, box));
      const sr = document.createElement('span');
      sr.className = 'sr';
      sr.dataset.i18n = 'col_hold';
      sr.textContent = t('col_hold');
      label.append(box, sr);
      td.appendChild(label);
    }
    const call = cell(tr, 'rec-call', r.call_id || '');
    call.title = r.call_id || '';
    return tr;
  }

  function draw() {
    const body = $('rec-rows');
    body.textContent = '';
    for (const r of app.rows) body.appendChild(row(r));
    show($('rec-empty'), app.rows.length === 0);
    show($('col-hold'), app.supervisor);
    $('rec-next').disabled = !app.next;
    $('rec-prev').disabled = app.cursors.length <= 1;
    $('rec-page').textContent = app.cursors.length > 1 || app.next ? t('page_n', { n: app.cursors.length }) : '';
  }

  // redrawText updates the language of what is on screen without
  // rebuilding the rows (a playing <audio> keeps playing).
  function redrawText() {
    document.title = t('recordings_title');
    for (const r of app.rows) {
      const tr = document.getElementById('rec-row-' + r.id);
      if (!tr) continue;
      tr.querySelector('.rec-started').textContent = when(r.started_at);
      tr.querySelector('.rec-state').textContent = stateText(r.state);
      if (!r.audio_url) {
        tr.querySelector('.rec-player').textContent = t('rec_no_audio');
      }
    }
    if (app.error) $('rec-error').textContent = t(app.error.key, app.error.params);
    $('rec-page').textContent = app.cursors.length > 1 || app.next ? t('page_n', { n: app.cursors.length }) : '';
  }

  // ---- actions ------------------------------------------------------------

  async function setHold(r, box) {
    const hold = box.checked;
    box.disabled = true;
    try {
      const resp = await fetch('/api/v1/recordings/' + encodeURIComponent(r.id) + '/legal-hold', {
        method: 'PUT',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': app.csrf },
        body: JSON.stringify({ hold }),
      });
      if (resp.status === 401) {
        toLogin();
        return;
      }
      if (!resp.ok) {
        box.checked = !hold;
        showError('rec_hold_failed', { m: await errorText(resp) });
        return;
      }
      r.legal_hold = hold;
      showError(null);
    } catch (e) {
      box.checked = !hold;
      showError('rec_hold_failed', { m: String(e && e.message || e) });
    } finally {
      box.disabled = false;
    }
  }

  // readFields returns the filters in the form, or null (and an error on
  // screen) when they do not make sense.
  function readFields() {
    const f = {
      agent: app.supervisor ? $('f-agent').value.trim() : '',
      queue: $('f-queue').value.trim(),
      from: fromInput($('f-from').value),
      to: fromInput($('f-to').value),
      call: $('f-call').value.trim(),
    };
    if (f.from && f.to && !(new Date(f.from) < new Date(f.to))) {
      showError('rec_bad_range');
      return null;
    }
    return f;
  }

  function fillFields() {
    $('f-agent').value = app.filter.agent || '';
    $('f-queue').value = app.filter.queue || '';
    $('f-from').value = toInput(app.filter.from);
    $('f-to').value = toInput(app.filter.to);
    $('f-call').value = app.filter.call || '';
  }

  // apply shows the first page of the filters in the form and puts them in
  // the page's address.
  function apply() {
    const f = readFields();
    if (!f) return;
    app.filter = f;
    app.cursors = [''];
    const q = new URLSearchParams(location.search);
    for (const k of FILTERS) {
      if (f[k]) q.set(k, f[k]);
      else q.delete(k);
    }
    const qs = q.toString();
    history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
    load();
  }

  function wire() {
    $('logout').addEventListener('click', logout);
    $('rec-filters').addEventListener('submit', (ev) => {
      ev.preventDefault();
      apply();
    });
    $('f-clear').addEventListener('click', () => {
      for (const id of ['f-agent', 'f-queue', 'f-from', 'f-to', 'f-call']) $(id).value = '';
      apply();
    });
    $('rec-next').addEventListener('click', () => {
      if (!app.next) return;
      app.cursors.push(app.next);
      load();
    });
    $('rec-prev').addEventListener('click', () => {
      if (app.cursors.length <= 1) return;
      app.cursors.pop();
      load();
    });
    I18N.onChange(redrawText);
  }

  // A read-only view for tests (not an API).
  window.hotlineRecordings = {
    rows: () => app.rows.map((r) => r.id),
    filter: () => Object.assign({}, app.filter),
  };

  async function boot() {
    wire();
    document.title = t('recordings_title');
    const q = new URLSearchParams(location.search);
    for (const k of FILTERS) if (q.get(k)) app.filter[k] = q.get(k);
    const limit = parseInt(q.get('limit') || '', 10);
    if (Number.isFinite(limit) && limit > 0 && limit <= 500) app.limit = limit;
    for (;;) {
      try {
        if (!(await loadMe())) return;
        break;
      } catch (e) {
        showError('rec_failed_load', { m: String(e && e.message || e) });
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    if (!app.supervisor) delete app.filter.agent; // the API gives an agent only their own
    show($('f-agent-box'), app.supervisor);
    show($('rec-only-yours'), !app.supervisor);
    show($('col-hold'), app.supervisor);
    fillFields();
    load();
  }

  boot();
})();
