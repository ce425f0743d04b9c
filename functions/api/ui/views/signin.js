// Signing in with the organisation's identity provider (OpenID Connect mode; see ../auth.js): one button that goes
// to the provider, and why the user is asked (signed out, a failed sign-in). Also the page shown when the server
// has no way to sign in configured.

import { beginSignIn, signInMode } from '../auth.js';
import { h, show } from '../dom.js';

let notice = null;

/** A message the next sign-in view shows above its button (why the user is asked again). */
export function setSignInNotice(text) {
  notice = text;
}

export function viewSignIn() {
  if (signInMode() === 'unconfigured') {
    show(
      h(
        'section',
        { class: 'token-view', 'aria-labelledby': 'signin-title' },
        h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign-in is not configured'),
        h(
          'p',
          { class: 'panel panel-warning', role: 'alert', 'data-testid': 'signin-message' },
          'This deployment has no client id for the web UI (the UiClientId parameter). The API still answers callers with tokens from the identity provider.',
        ),
      ),
    );
    return;
  }
  const error = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'signin-error' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-primary',
      'data-testid': 'signin-button',
      onclick: async () => {
        button.disabled = true;
        error.textContent = '';
        try {
          await beginSignIn(location.hash);
        } catch (e) {
          button.disabled = false;
          error.textContent = `Cannot reach the identity provider: ${e && e.message ? e.message : e}`;
        }
      },
    },
    'Sign in',
  );
  show(
    h(
      'section',
      { class: 'token-view', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in with your organisation account'),
      notice ? h('p', { class: 'panel panel-warning', role: 'alert', 'data-testid': 'signin-message' }, notice) : null,
      h(
        'div',
        { class: 'panel token-form' },
        h('p', { class: 'hint' }, 'You are sent to your identity provider and back. Your session is kept in this tab only.'),
        error,
        h('div', { class: 'actions' }, button),
      ),
    ),
  );
  button.focus();
}
