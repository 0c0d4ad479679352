// The sign-in page: POST /api/v1/login, then on to the page the user came
// from (?next=, same origin only), else the supervisor page for a
// supervisor and the agent page for everyone else.
'use strict';

(function () {
  const { t } = window.HotlineI18n;
  const form = document.getElementById('login-form');
  const user = document.getElementById('login-user');
  const pass = document.getElementById('login-pass');
  const submit = document.getElementById('login-submit');
  const errorLine = document.getElementById('login-error');
  let lastError = null; // {key, params}: redrawn when the language changes

  // nextPage returns where to go after signing in: a local path only, so the
  // page cannot be used to send someone to another site.
  function nextPage(role) {
    const next = new URLSearchParams(location.search).get('next') || '';
    if (next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')) return next;
    return role === 'supervisor' ? '/supervisor/' : '/agent/';
  }

  // roleOf reads the role from a sign-in or /api/v1/me answer; '' when the
  // body says none.
  async function roleOf(resp) {
    try {
      const me = await resp.json();
      return (me && me.role) || '';
    } catch (e) {
      return '';
    }
  }

  function showError(key, params) {
    lastError = key ? { key, params } : null;
    errorLine.hidden = !key;
    errorLine.textContent = key ? t(key, params) : '';
  }

  window.HotlineI18n.onChange(() => { if (lastError) showError(lastError.key, lastError.params); });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = user.value.trim();
    if (!username || !pass.value) {
      showError('login_missing');
      return;
    }
    submit.disabled = true;
    try {
      const resp = await fetch('/api/v1/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password: pass.value }),
      });
      if (resp.ok) {
        showError(null);
        location.assign(nextPage(await roleOf(resp)));
        return;
      }
      pass.value = '';
      if (resp.status === 401 || resp.status === 403) {
        showError('login_wrong');
      } else if (resp.status === 429) {
        const s = parseInt(resp.headers.get('Retry-After') || '', 10);
        showError('login_throttled', { s: Number.isFinite(s) && s > 0 ? s : 30 });
      } else {
        showError('login_failed');
      }
      pass.focus();
    } catch (e) {
      showError('login_failed');
    } finally {
      submit.disabled = false;
    }
  });

  // Someone already signed in goes straight on.
  fetch('/api/v1/me', { credentials: 'same-origin' }).then(async (resp) => {
    if (resp.ok) location.replace(nextPage(await roleOf(resp)));
  }).catch(() => {});
})();
