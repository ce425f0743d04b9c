// The web UI for scheduled investigations: a small single-page app with hash routing, no framework and no build
// step; ES modules served by the API's own router. This module starts it: it draws the view the route names,
// after sign-in.
//
//   api.js      the API client: token, fetch, error messages           dom.js     `h` (text only), page pieces
//   auth.js     OpenID Connect sign-in (when /ui/config.json says so)
//   server.js   what GET /api/v1/me says: personas, limits             format.js  instants, zones, durations
//   router.js   hash routes and each view's lifetime                   views/     one module per view (+ parts.js)

import { getToken, isHandled, setToken, setTokenSource, setUnauthorizedHandler } from './api.js';
import {
  accessToken,
  beginSignIn,
  completeSignIn,
  forgetTokens,
  isCallback,
  loadSignInConfig,
  sessionExpired,
  signInMode,
  signOut,
  tokenIsFresh,
} from './auth.js';
import { errorPanel, focusHeading, h, heading, main, show } from './dom.js';
import { newScope, parseRoute, setRenderer } from './router.js';
import { forgetServer, loadServer } from './server.js';
import { viewDetail } from './views/detail.js';
import { viewForm } from './views/form.js';
import { viewList } from './views/list.js';
import { viewNotifications } from './views/notifications.js';
import { setSignInNotice, viewSignIn } from './views/signin.js';
import { hideWhoami, setTokenNotice, showWhoami, viewToken } from './views/token.js';

function viewNotFound() {
  show(heading('Page not found'), h('p', {}, h('a', { href: '#/schedules' }, 'Go to your schedules')));
  focusHeading();
}

const VIEWS = {
  list: viewList,
  form: viewForm,
  detail: viewDetail,
  notifications: viewNotifications,
  'not-found': viewNotFound,
};

function updateNav(route) {
  const section = route.view === 'notifications' ? 'notifications' : route.view === 'not-found' ? '' : 'schedules';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function render() {
  const route = parseRoute(location.hash);
  const s = newScope();
  updateNav(route);
  if (!getToken()) {
    hideWhoami();
    if (signInMode() === 'token') viewToken(s);
    else if (sessionExpired()) {
      // The access token ran out: through the provider again, back to this route.
      forgetTokens();
      beginSignIn(location.hash).catch((e) => {
        setSignInNotice(`Your session expired and the identity provider cannot be reached: ${e.message}`);
        viewSignIn(s);
      });
    } else viewSignIn(s);
    return;
  }
  try {
    await VIEWS[route.view](s, route);
  } catch (e) {
    if (isHandled(e)) return;
    if (s.alive()) show(errorPanel(e, () => render()));
  }
}

async function start() {
  setRenderer(render);
  await loadSignInConfig();
  const oidc = signInMode() !== 'token';
  if (oidc) {
    setTokenSource(accessToken);
    document.getElementById('sign-out').textContent = 'Sign out';
    if (isCallback()) {
      try {
        await completeSignIn();
      } catch (e) {
        setSignInNotice(`Sign-in failed: ${e && e.message ? e.message : e}`);
      }
    }
  }
  setUnauthorizedHandler((message) => {
    forgetServer();
    if (!oidc) {
      setTokenNotice(message);
      queueMicrotask(() => render());
      return;
    }
    const fresh = tokenIsFresh();
    forgetTokens();
    if (fresh) {
      // A token issued a moment ago and refused at once: signing in again would loop. Say so instead.
      setSignInNotice(
        "The API refused the token your identity provider just issued (401). Ask your administrator to check the API's accepted audiences and the UI's scopes.",
      );
      queueMicrotask(() => render());
    } else {
      // Expired or revoked: through the provider again, back to this route.
      queueMicrotask(() => beginSignIn(location.hash).catch(() => render()));
    }
  });
  window.addEventListener('hashchange', () => render());
  document.getElementById('skip-link').addEventListener('click', () => {
    const m = main();
    (m.querySelector('h1') || m).focus();
  });
  document.getElementById('sign-out').addEventListener('click', async () => {
    forgetServer();
    if (oidc) {
      hideWhoami();
      setSignInNotice('You are signed out.');
      if (await signOut()) return;
    } else {
      setToken(null);
      setTokenNotice('Token forgotten. Enter a token to continue.');
    }
    render();
  });
  if (getToken()) {
    loadServer()
      .then(showWhoami)
      .catch(() => {
        // A 401 re-renders the token prompt by itself; other errors show up in the views.
      });
  }
  if (!location.hash) history.replaceState(null, '', '#/schedules');
  render();
}

if (typeof document !== 'undefined' && document.getElementById('main')) start();
