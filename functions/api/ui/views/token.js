// Signing in: the token prompt (the token is tried against /api/v1/me before it is kept) and the "who am I" box.

import { detailMessage, probeToken, setToken } from '../api.js';
import { h, show } from '../dom.js';
import { rerender } from '../router.js';
import { rememberServer } from '../server.js';

let tokenNotice = null;

/** A message the next token prompt shows above the form (why the user is asked again). */
export function setTokenNotice(text) {
  tokenNotice = text;
}

export function showWhoami(me) {
  const box = document.getElementById('whoami');
  if (!me || typeof me !== 'object') return;
  document.getElementById('whoami-text').textContent = `${me.user ?? '?'} · ${me.role ?? ''}`;
  box.hidden = false;
}

export function hideWhoami() {
  document.getElementById('whoami').hidden = true;
}

export function viewToken(s) {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help token-error',
    'data-testid': 'token-input',
  });
  const error = h('p', { id: 'token-error', class: 'field-error', role: 'alert', 'data-testid': 'token-error' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'token-submit' }, 'Continue');
  const form = h(
    'form',
    {
      class: 'panel token-form',
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const token = input.value.trim();
        error.textContent = '';
        if (!token) {
          error.textContent = 'Enter the API token.';
          input.focus();
          return;
        }
        button.disabled = true;
        try {
          const res = await probeToken(token);
          if (!s.alive()) return;
          if (res.status === 401) {
            error.textContent = `The server rejected this token (401: ${detailMessage(401, res.data)}).`;
            input.focus();
            return;
          }
          if (!res.ok) {
            error.textContent = detailMessage(res.status, res.data);
            return;
          }
          setToken(token);
          tokenNotice = null;
          rememberServer(res.data);
          showWhoami(res.data);
          rerender();
        } catch {
          error.textContent = 'Cannot reach the server. Is it running?';
        } finally {
          button.disabled = false;
        }
      },
    },
    h('label', { for: 'token' }, 'API token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'hint' },
      'The local runner prints its token when it first starts (or uses API_TOKEN). It is kept in this tab only and forgotten when you close it.',
    ),
    error,
    h('div', { class: 'actions' }, button),
  );
  show(
    h(
      'section',
      { class: 'token-view', 'aria-labelledby': 'token-title' },
      h('h1', { id: 'token-title', tabindex: '-1' }, 'Sign in with your API token'),
      tokenNotice ? h('p', { class: 'panel panel-warning', role: 'alert', 'data-testid': 'token-message' }, tokenNotice) : null,
      form,
    ),
  );
  input.focus();
}
