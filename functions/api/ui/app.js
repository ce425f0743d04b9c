// The web UI for scheduled investigations: a small single-page app with hash routing, no framework and no build
// step; ES modules served by the API's own router. This module starts it: it draws the view the route names,
// after sign-in.
//
//   api.js      the API client: token, fetch, error messages           dom.js     `h` (text only), page pieces
//   server.js   what GET /api/v1/me says: personas, limits             format.js  instants, zones, durations
//   router.js   hash routes and each view's lifetime                   views/     one module per view (+ parts.js)

import { getToken, isHandled, setToken, setUnauthorizedHandler } from './api.js';
import { errorPanel, focusHeading, h, heading, main, show } from './dom.js';
import { newScope, parseRoute, setRenderer } from './router.js';
import { forgetServer, loadServer } from './server.js';
import { viewDetail } from './views/detail.js';
import { viewForm } from './views/form.js';
import { viewList } from './views/list.js';
import { viewNotifications } from './views/notifications.js';
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
    viewToken(s);
    return;
  }
  try {
    await VIEWS[route.view](s, route);
  } catch (e) {
    if (isHandled(e)) return;
    if (s.alive()) show(errorPanel(e, () => render()));
  }
}

function start() {
  setRenderer(render);
  setUnauthorizedHandler((message) => {
    forgetServer();
    setTokenNotice(message);
    queueMicrotask(() => render());
  });
  window.addEventListener('hashchange', () => render());
  document.getElementById('skip-link').addEventListener('click', () => {
    const m = main();
    (m.querySelector('h1') || m).focus();
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    setToken(null);
    forgetServer();
    setTokenNotice('Token forgotten. Enter a token to continue.');
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
