// The web UI for scheduled investigations: a small single-page app with hash routing, no framework and no build
// step. Everything the API returns is untrusted text: it reaches the page only through textContent / text nodes
// (the `h` helper below), never through innerHTML, and the server's CSP forbids inline script on top of that.

const TOKEN_KEY = 'scheduled-investigations.token';
const PAGE_SIZE = 20;
const RUN_REFRESH_MS = 3000;
const PREVIEW_DEBOUNCE_MS = 350;
const PREVIEW_COUNT = 5;
const TOAST_MS = 5000;

export const VIEWER_TZ = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
})();

export const FREQUENCIES = [
  ['once', 'Once'],
  ['daily', 'Daily'],
  ['weekly', 'Weekly'],
  ['monthly', 'Monthly'],
  ['custom', 'Custom (cron expression)'],
];
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
export const PERSONAS = [
  ['soc_analyst', 'SOC analyst'],
  ['ciso', 'CISO'],
];
const EVENT_LABELS = {
  'investigation-completed': 'Investigation completed',
  'investigation-failed': 'Investigation failed',
  'schedule-disabled': 'Schedule disabled',
};
// The API names the query `query` on /validate and `user_query` on the schedule; both belong to one form field.
const FIELD_ALIASES = { query: 'user_query' };

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers (exported so that node can check them without a browser).

/** Builds an element; strings become text nodes, so API data can never become markup. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [key, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (key === 'class') el.className = v;
    else if (key === 'text') el.textContent = String(v);
    else if (key === 'value') value = v;
    else if (key === 'dataset') Object.assign(el.dataset, v);
    else if (key.startsWith('on') && typeof v === 'function') el.addEventListener(key.slice(2), v);
    else el.setAttribute(key, v === true ? '' : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  // Set after the children so that a <select> already has its options.
  if (value !== undefined) el.value = String(value);
  return el;
}

/** The human message of an API error body (`{"detail": string}` or a 422 list). */
export function detailMessage(status, body) {
  const detail = body && typeof body === 'object' ? body.detail : undefined;
  if (typeof detail === 'string' && detail.trim()) return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail
      .map((e) => {
        const loc = e && Array.isArray(e.loc) ? e.loc.filter((p) => p !== 'body').join('.') : '';
        const msg = e && typeof e.msg === 'string' ? e.msg : 'invalid value';
        return loc ? `${loc}: ${msg}` : msg;
      })
      .join('; ');
  }
  return `The server answered ${status}.`;
}

/** Maps a 422 body to `{field: message}`; errors that name no field of the body go under `_form`. */
export function fieldErrorsOf(body) {
  const out = {};
  const detail = body && typeof body === 'object' ? body.detail : undefined;
  if (!Array.isArray(detail)) return out;
  for (const e of detail) {
    if (!e || typeof e !== 'object') continue;
    const loc = Array.isArray(e.loc) ? e.loc.map(String) : [];
    let field = loc[0] === 'body' && loc.length >= 2 ? loc[1] : '_form';
    field = FIELD_ALIASES[field] || field;
    const msg = typeof e.msg === 'string' && e.msg ? e.msg : 'Invalid value';
    out[field] = out[field] ? `${out[field]} ${msg}` : msg;
  }
  return out;
}

/** The timing part of a form's values, as the API wants it: only the fields the frequency uses. */
export function timingBody(v) {
  const body = { frequency: v.frequency };
  if (v.timezone && v.timezone.trim()) body.timezone = v.timezone.trim();
  switch (v.frequency) {
    case 'once':
    case 'daily':
      if (v.scheduled_time) body.scheduled_time = v.scheduled_time;
      break;
    case 'weekly':
      if (v.scheduled_time) body.scheduled_time = v.scheduled_time;
      if (v.day_of_week) body.day_of_week = v.day_of_week;
      break;
    case 'monthly':
      if (v.scheduled_time) body.scheduled_time = v.scheduled_time;
      if (v.day_of_month === 'last') body.day_of_month = 'last';
      else if (v.day_of_month !== undefined && v.day_of_month !== '') body.day_of_month = Number(v.day_of_month);
      break;
    case 'custom':
      body.cron_expression = v.cron_expression || '';
      break;
    default:
      break;
  }
  return body;
}

/** The whole create / update body. An edit always sends the description, so that clearing it sticks. */
export function scheduleBody(v, { editing = false } = {}) {
  const body = {
    name: v.name,
    user_query: v.user_query,
    persona: v.persona,
    ...timingBody(v),
  };
  if (editing || (v.description && v.description.trim())) body.description = v.description;
  return body;
}

export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return rest ? `${m} min ${rest} s` : `${m} min`;
  const hrs = Math.floor(m / 60);
  return `${hrs} h ${m - hrs * 60} min`;
}

const formatters = new Map();
function formatterFor(timeZone, withYear) {
  const key = `${timeZone}|${withYear}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: 'short',
      year: withYear ? 'numeric' : undefined,
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(key, f);
  }
  return f;
}

/** An instant in a given IANA zone ("Tue, Nov 25, 2026, 08:00 GMT+1"); falls back to UTC for an unknown zone. */
export function formatInstant(iso, timeZone = VIEWER_TZ, withYear = true) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  try {
    return formatterFor(timeZone || 'UTC', withYear).format(d);
  } catch {
    return formatterFor('UTC', withYear).format(d);
  }
}

export function relativeTime(iso, now = Date.now()) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const seconds = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** Anything the API put in a validation item, as one readable string. */
export function itemText(item) {
  if (item === null || item === undefined) return '';
  if (typeof item !== 'object') return String(item);
  const value = item.value ?? item.text ?? item.match ?? item.name;
  const kind = item.kind ?? item.type;
  if (value !== undefined && kind !== undefined) return `${String(kind).replace(/_/g, ' ')}: ${value}`;
  if (value !== undefined) return String(value);
  try {
    return JSON.stringify(item);
  } catch {
    return '';
  }
}

function isoLocalTomorrowAt(hhmm) {
  const d = new Date(Date.now() + 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${hhmm}`;
}

function timeZones() {
  try {
    const zones = Intl.supportedValuesOf('timeZone');
    return zones.includes('UTC') ? zones : ['UTC', ...zones];
  } catch {
    return ['UTC', VIEWER_TZ];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Token and API client.

export class ApiError extends Error {
  constructor(status, body) {
    super(detailMessage(status, body));
    this.status = status;
    this.body = body;
    this.fieldErrors = status === 422 ? fieldErrorsOf(body) : {};
  }
}

let tokenNotice = null;

function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled; the token then lasts only as long as this page.
  }
  memoryToken = token;
}
let memoryToken = null;

async function readJson(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

async function api(method, path, { body, signal } = {}) {
  const token = getToken() || memoryToken;
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, { detail: 'Cannot reach the server. Is it running?' });
  }
  if (res.status === 204) return null;
  const data = await readJson(res);
  if (res.status === 401) {
    const err = new ApiError(401, data);
    setToken(null);
    tokenNotice = `The server rejected your token (401: ${err.message}). Enter a valid API token to continue.`;
    queueMicrotask(() => render());
    err.handled = true;
    throw err;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// ---------------------------------------------------------------------------------------------------------------
// Routing and view lifecycle.

export function parseRoute(hash) {
  const raw = (hash || '').replace(/^#/, '') || '/schedules';
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(qs || '');
  if (parts[0] === 'schedules') {
    if (parts.length === 1) return { view: 'list', params };
    if (parts.length === 2 && parts[1] === 'new') return { view: 'form', params };
    const id = decodeURIComponent(parts[1]);
    if (parts.length === 2) return { view: 'detail', id, params };
    if (parts.length === 3 && parts[2] === 'edit') return { view: 'form', id, params };
  }
  if (parts[0] === 'notifications' && parts.length === 1) return { view: 'notifications', params };
  return { view: 'not-found', params };
}

let scope = null;

/** Per-view resources: fetches are aborted and timers cleared when the user navigates away. */
function newScope() {
  if (scope) scope.dispose();
  const controller = new AbortController();
  const timers = new Set();
  const s = {
    signal: controller.signal,
    alive: () => scope === s && !controller.signal.aborted,
    timeout(fn, ms) {
      const id = setTimeout(() => {
        timers.delete(id);
        if (s.alive()) fn();
      }, ms);
      timers.add(id);
      return id;
    },
    clear(id) {
      clearTimeout(id);
      timers.delete(id);
    },
    dispose() {
      controller.abort();
      for (const id of timers) clearTimeout(id);
      timers.clear();
    },
  };
  scope = s;
  return s;
}

function main() {
  return document.getElementById('main');
}

function show(...nodes) {
  main().replaceChildren(...nodes);
}

function focusHeading() {
  const h1 = main().querySelector('h1');
  if (h1) h1.focus({ preventScroll: false });
}

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
  if (!getToken() && !memoryToken) {
    document.getElementById('whoami').hidden = true;
    viewToken(s);
    return;
  }
  const views = {
    list: viewList,
    form: viewForm,
    detail: viewDetail,
    notifications: viewNotifications,
    'not-found': viewNotFound,
  };
  try {
    await views[route.view](s, route);
  } catch (e) {
    if (e && (e.name === 'AbortError' || e.handled)) return;
    if (s.alive()) show(errorPanel(e, () => render()));
  }
}

function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared pieces.

function heading(text, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, text), ...extra);
}

function inlineHeading(text, ...extra) {
  const head = heading(text, ...extra);
  head.classList.add('page-head-inline');
  return head;
}

function errorPanel(e, retry) {
  return h(
    'div',
    { class: 'panel panel-error', role: 'alert', 'data-testid': 'error-panel' },
    h('p', {}, e instanceof Error ? e.message : String(e)),
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, 'Try again') : null,
  );
}

// An investigation's result, which can run to paragraphs: two lines in the table, the whole text on request
// (a native <details>, so it works with the keyboard and screen readers).
function resultText(value) {
  const full = typeof value === 'string' ? value : itemText(value);
  if (full.length <= 80) return h('div', { class: 'result-text' }, full);
  return h(
    'details',
    { class: 'long-text', 'data-testid': 'result-text' },
    h('summary', {}, h('span', { class: 'clamp' }, full), h('span', { class: 'more', 'aria-hidden': 'true' })),
    h('div', { class: 'full' }, full),
  );
}

function badge(value, kind) {
  const text = value ? String(value) : '—';
  return h('span', { class: `badge badge-${kind}-${text.toLowerCase().replace(/[^a-z]/g, '')}` }, text);
}

function toast(message, { kind = 'info', link } = {}) {
  const box = document.getElementById('toasts');
  const el = h(
    'div',
    { class: `toast toast-${kind}`, 'data-testid': `toast-${kind}` },
    h('span', {}, message),
    link ? h('a', { href: link.href }, link.text) : null,
    h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '×'),
  );
  box.append(el);
  // Keep the newest few: a burst of actions should not bury the page.
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => el.remove(), TOAST_MS);
}

function confirmDialog(title, text, okLabel) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // The async clipboard needs a secure context and permission; fall back to a selection copy.
    const area = h('textarea', { class: 'visually-hidden', readonly: true }, text);
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  toast('Session id copied.');
}

// The session id, linked to the engine's UI when the server knows where that is (SESSION_URL_TEMPLATE), and a copy
// button. Only http(s) links are followed, whatever the API sends.
function sessionCell(sessionId, sessionUrl) {
  if (!sessionId) return h('span', { class: 'muted' }, '—');
  const id = String(sessionId);
  const url = typeof sessionUrl === 'string' && /^https?:\/\//i.test(sessionUrl) ? sessionUrl : '';
  return h(
    'span',
    { class: 'session' },
    url
      ? h('a', { href: url, class: 'mono', rel: 'noopener noreferrer', target: '_blank', 'data-testid': 'session-id', title: 'Open the session in the investigation engine' }, id)
      : h('code', { class: 'mono', 'data-testid': 'session-id' }, id),
    h(
      'button',
      { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Copy session id ${id}`, onclick: () => copyText(id) },
      'Copy',
    ),
  );
}

function nextRunCell(s) {
  if (!s.next_run_at) {
    const why = s.status === 'PAUSED' ? 'Paused' : s.status === 'COMPLETED' ? 'Finished' : s.status === 'FAILED' ? 'Disabled' : 'None';
    return h('span', { class: 'muted', 'data-testid': 'next-run' }, why);
  }
  const tz = s.timezone || 'UTC';
  return h(
    'div',
    { class: 'next-run', 'data-testid': 'next-run' },
    h(
      'div',
      { 'data-testid': 'next-run-schedule-tz' },
      formatInstant(s.next_run_at, tz),
      // The formatted instant already ends in "UTC"; other zones get their IANA name next to the offset.
      tz === 'UTC' ? null : h('span', { class: 'tz' }, ` ${tz}`),
    ),
    tz === VIEWER_TZ
      ? h('div', { class: 'muted small' }, `${relativeTime(s.next_run_at)} · your time zone`)
      : h(
          'div',
          { class: 'muted small', 'data-testid': 'next-run-viewer-tz' },
          `Your time: ${formatInstant(s.next_run_at, VIEWER_TZ, false)} (${VIEWER_TZ}) · ${relativeTime(s.next_run_at)}`,
        ),
  );
}

function lastRunCell(s) {
  if (s.runs_in_flight > 0) return h('div', { 'data-testid': 'last-run' }, badge('running', 'run'));
  if (!s.last_run_status && !s.last_run_at) return h('span', { class: 'muted', 'data-testid': 'last-run' }, 'Never run');
  return h(
    'div',
    { 'data-testid': 'last-run' },
    s.last_run_status ? badge(s.last_run_status, 'run') : null,
    s.last_run_at ? h('div', { class: 'muted small' }, relativeTime(s.last_run_at)) : null,
  );
}

/** The lifecycle buttons valid for a schedule's status. `after` re-renders the current view. */
function scheduleActions(s, after, { withEdit = true } = {}) {
  const id = encodeURIComponent(s.id);
  const name = s.name || s.id;
  const act = (label, testid, fn, cls = 'btn btn-small') =>
    h(
      'button',
      {
        type: 'button',
        class: cls,
        'data-testid': testid,
        'aria-label': `${label}: ${name}`,
        onclick: async (ev) => {
          const btn = ev.currentTarget;
          btn.disabled = true;
          try {
            await fn();
            after(testid);
          } catch (e) {
            if (e && e.handled) return;
            toast(e instanceof Error ? e.message : String(e), { kind: 'error' });
          } finally {
            btn.disabled = false;
          }
        },
      },
      label,
    );
  const buttons = [];
  if (s.status !== 'COMPLETED') {
    buttons.push(
      act('Run now', 'action-run', async () => {
        await api('POST', `/api/v1/schedules/${id}/run`);
        toast(`Run started for “${name}”.`, { link: { href: `#/schedules/${id}`, text: 'View runs' } });
      }),
    );
  }
  if (s.status === 'ACTIVE') {
    buttons.push(
      act('Pause', 'action-pause', async () => {
        await api('POST', `/api/v1/schedules/${id}/pause`);
        toast(`Paused “${name}”.`);
      }),
    );
  } else if (s.status === 'PAUSED' || s.status === 'FAILED') {
    const label = s.status === 'FAILED' ? 'Re-enable' : 'Resume';
    buttons.push(
      act(label, 'action-resume', async () => {
        await api('POST', `/api/v1/schedules/${id}/resume`);
        toast(s.status === 'FAILED' ? `Re-enabled “${name}”.` : `Resumed “${name}”.`);
      }),
    );
  }
  if (withEdit) {
    buttons.push(h('a', { class: 'btn btn-small', href: `#/schedules/${id}/edit`, 'data-testid': 'action-edit', 'aria-label': `Edit: ${name}` }, 'Edit'));
  }
  buttons.push(
    act(
      'Delete',
      'action-delete',
      async () => {
        const ok = await confirmDialog(
          'Delete this schedule?',
          `“${name}” will stop running and disappear from your list. Its past runs are kept for audit.`,
          'Delete schedule',
        );
        if (!ok) throw Object.assign(new Error('cancelled'), { handled: true });
        await api('DELETE', `/api/v1/schedules/${id}`);
        toast(`Deleted “${name}”.`);
      },
      'btn btn-small btn-danger-ghost',
    ),
  );
  return h('div', { class: 'row-actions' }, buttons);
}

function skeletonRows(columns, rows = 5) {
  return Array.from({ length: rows }, () =>
    h(
      'tr',
      { class: 'skeleton-row', 'aria-hidden': 'true' },
      Array.from({ length: columns }, () => h('td', {}, h('span', { class: 'skeleton' }))),
    ),
  );
}

function pager({ offset, limit, total, hrefFor, testid }) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  const prev = offset > 0;
  const next = offset + limit < total;
  const link = (enabled, off, label) =>
    enabled
      ? h('a', { class: 'btn btn-small', href: hrefFor(Math.max(0, off)) }, label)
      : h('span', { class: 'btn btn-small', 'aria-disabled': 'true' }, label);
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages', 'data-testid': testid },
    h('span', { class: 'muted' }, `${from}–${to} of ${total}`),
    link(prev, offset - limit, 'Previous'),
    link(next, offset + limit, 'Next'),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Token prompt.

function viewToken(s) {
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
          const res = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
          const data = await readJson(res);
          if (!s.alive()) return;
          if (res.status === 401) {
            error.textContent = `The server rejected this token (401: ${detailMessage(401, data)}).`;
            input.focus();
            return;
          }
          if (!res.ok) {
            error.textContent = detailMessage(res.status, data);
            return;
          }
          setToken(token);
          tokenNotice = null;
          showWhoami(data);
          render();
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

function showWhoami(me) {
  const box = document.getElementById('whoami');
  if (!me || typeof me !== 'object') return;
  document.getElementById('whoami-text').textContent = `${me.user ?? '?'} · ${me.role ?? ''}`;
  box.hidden = false;
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules list.

async function viewList(s, route) {
  const offset = Math.max(0, Number.parseInt(route.params.get('offset') || '0', 10) || 0);
  const status = route.params.get('status') || '';
  const hrefFor = (off, st = status) => {
    const q = new URLSearchParams();
    if (off) q.set('offset', String(off));
    if (st) q.set('status', st);
    const qs = q.toString();
    return `#/schedules${qs ? `?${qs}` : ''}`;
  };
  const filter = h(
    'select',
    {
      id: 'status-filter',
      'data-testid': 'status-filter',
      value: status,
      onchange: (ev) => navigate(hrefFor(0, ev.currentTarget.value)),
    },
    h('option', { value: '' }, 'All statuses'),
    ['ACTIVE', 'PAUSED', 'COMPLETED', 'FAILED'].map((v) => h('option', { value: v }, v.charAt(0) + v.slice(1).toLowerCase())),
  );
  const columns = ['Name', 'Frequency', 'Next run', 'Last run', 'Status', 'Actions'];
  const tbody = h('tbody', { 'data-testid': 'schedule-rows' }, skeletonRows(columns.length));
  const footer = h('div', { class: 'table-footer' }, h('span', { class: 'skeleton skeleton-short', 'aria-hidden': 'true' }));
  show(
    heading(
      'Schedules',
      h('a', { class: 'btn btn-primary', href: '#/schedules/new', 'data-testid': 'create-schedule' }, 'Create schedule'),
    ),
    h('div', { class: 'toolbar' }, h('label', { for: 'status-filter' }, 'Show'), filter),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table table-cards', 'aria-busy': 'true', 'data-testid': 'schedules-table' },
        h('caption', { class: 'visually-hidden' }, 'Your scheduled investigations'),
        h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ),
    ),
    footer,
  );
  focusHeading();

  const q = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
  if (status) q.set('status', status);
  const page = await api('GET', `/api/v1/schedules?${q}`, { signal: s.signal });
  if (!s.alive()) return;
  const items = Array.isArray(page && page.items) ? page.items : [];
  const total = Number.isFinite(page && page.total) ? page.total : items.length;
  if (items.length === 0 && offset > 0 && total > 0) {
    // Past the end (the last row of the last page was deleted, or an old link): show the last page instead of an
    // empty "No schedules yet" one. Replaced, not pushed, so that Back does not return here.
    history.replaceState(null, '', hrefFor(Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE));
    render();
    return;
  }
  tbody.closest('table').setAttribute('aria-busy', 'false');
  if (items.length === 0) {
    tbody.replaceChildren(
      h(
        'tr',
        { class: 'empty-row' },
        h(
          'td',
          { colspan: String(columns.length) },
          status ? 'No schedules with this status.' : 'No schedules yet. Create one to run an investigation automatically.',
        ),
      ),
    );
  } else {
    const again = () => render();
    tbody.replaceChildren(
      ...items.map((sch) =>
        h(
          'tr',
          { 'data-testid': 'schedule-row', 'data-id': sch.id, 'data-name': sch.name },
          h(
            'td',
            { 'data-label': 'Name' },
            h('a', { href: `#/schedules/${encodeURIComponent(sch.id)}`, class: 'row-title', 'data-testid': 'schedule-link' }, sch.name || sch.id),
            sch.description ? h('div', { class: 'muted small clamp' }, sch.description) : null,
          ),
          h('td', { 'data-label': 'Frequency', 'data-testid': 'frequency' }, sch.schedule_description || sch.frequency || '—'),
          h('td', { 'data-label': 'Next run' }, nextRunCell(sch)),
          h('td', { 'data-label': 'Last run' }, lastRunCell(sch)),
          h('td', { 'data-label': 'Status', 'data-testid': 'status' }, badge(sch.status, 'status')),
          h('td', { 'data-label': 'Actions' }, scheduleActions(sch, again)),
        ),
      ),
    );
  }
  footer.replaceChildren(pager({ offset, limit: PAGE_SIZE, total, hrefFor, testid: 'schedules-pager' }));
}

// ---------------------------------------------------------------------------------------------------------------
// Create / edit form.

function formValuesFromSchedule(s) {
  let scheduledTime = s.scheduled_time || '';
  if (s.frequency === 'once' && scheduledTime) {
    // datetime-local wants "YYYY-MM-DDTHH:MM"; an "HH:MM" once-schedule is shown as tomorrow at that time.
    scheduledTime = /^\d{2}:\d{2}/.test(scheduledTime) ? isoLocalTomorrowAt(scheduledTime.slice(0, 5)) : scheduledTime.slice(0, 16);
  } else if (scheduledTime) {
    scheduledTime = scheduledTime.slice(0, 5);
  }
  return {
    name: s.name || '',
    description: s.description || '',
    user_query: s.user_query || '',
    persona: s.persona || 'soc_analyst',
    frequency: s.frequency || 'daily',
    scheduled_time: scheduledTime,
    day_of_week: s.day_of_week || 'monday',
    day_of_month: s.day_of_month === undefined || s.day_of_month === null ? '1' : String(s.day_of_month),
    cron_expression: s.cron_expression || '',
    timezone: s.timezone || VIEWER_TZ,
  };
}

const NEW_SCHEDULE = () => ({
  name: '',
  description: '',
  user_query: '',
  persona: 'soc_analyst',
  frequency: 'daily',
  scheduled_time: '08:00',
  day_of_week: 'monday',
  day_of_month: '1',
  cron_expression: '0 8 * * MON-FRI',
  timezone: VIEWER_TZ,
});

function field(name, label, control, { hint, wide } = {}) {
  const hintId = hint ? `hint-${name}` : null;
  const errId = `error-${name}`;
  control.id = `f-${name}`;
  control.name = name;
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  control.dataset.testid = `input-${name}`;
  return h(
    'div',
    { class: `field${wide ? ' field-wide' : ''}`, 'data-field': name },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId, 'data-testid': `error-${name}` }),
  );
}

async function viewForm(s, route) {
  const editing = Boolean(route.id);
  let initial = NEW_SCHEDULE();
  let original = null;
  if (editing) {
    show(heading('Edit schedule'), h('div', { class: 'panel skeleton-block', 'aria-hidden': 'true' }));
    focusHeading();
    original = await api('GET', `/api/v1/schedules/${encodeURIComponent(route.id)}`, { signal: s.signal });
    if (!s.alive()) return;
    initial = formValuesFromSchedule(original);
  }

  const c = {
    name: h('input', { type: 'text', maxlength: '200', autocomplete: 'off', value: initial.name }),
    description: h('textarea', { rows: '2', maxlength: '2000', value: initial.description }),
    user_query: h('textarea', { rows: '4', maxlength: '4000', value: initial.user_query }),
    persona: h('select', { value: initial.persona }, PERSONAS.map(([v, l]) => h('option', { value: v }, l))),
    frequency: h('select', { value: initial.frequency }, FREQUENCIES.map(([v, l]) => h('option', { value: v }, l))),
    scheduled_time: h('input', { type: initial.frequency === 'once' ? 'datetime-local' : 'time', value: initial.scheduled_time }),
    day_of_week: h(
      'select',
      { value: initial.day_of_week },
      WEEKDAYS.map((d) => h('option', { value: d }, d.charAt(0).toUpperCase() + d.slice(1))),
    ),
    day_of_month: h(
      'select',
      { value: initial.day_of_month },
      Array.from({ length: 31 }, (_, i) => h('option', { value: String(i + 1) }, String(i + 1))),
      h('option', { value: 'last' }, 'Last day of the month'),
    ),
    cron_expression: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', value: initial.cron_expression }),
    timezone: h('input', { type: 'text', list: 'tz-list', autocomplete: 'off', spellcheck: 'false', value: initial.timezone }),
  };
  const zoneList = h('datalist', { id: 'tz-list' }, timeZones().map((z) => h('option', { value: z })));

  const fields = {
    name: field('name', 'Name', c.name),
    description: field('description', 'Description (optional)', c.description, { wide: true }),
    user_query: field('user_query', 'Investigation query', c.user_query, {
      wide: true,
      hint: 'Name the entities, the time window and what counts as suspicious, e.g. “Failed sign-ins for admin@contoso.com in the last 24 hours, more than 5 attempts”.',
    }),
    persona: field('persona', 'Persona', c.persona),
    frequency: field('frequency', 'Frequency', c.frequency),
    scheduled_time: field('scheduled_time', 'Run time', c.scheduled_time),
    day_of_week: field('day_of_week', 'Day of week', c.day_of_week),
    day_of_month: field('day_of_month', 'Day of month', c.day_of_month, {
      hint: 'Months without this day run on their last day.',
    }),
    cron_expression: field('cron_expression', 'Cron expression', c.cron_expression, {
      hint: 'Five fields: minute hour day-of-month month day-of-week, e.g. 0 8 * * MON-FRI.',
    }),
    timezone: field('timezone', 'Time zone', c.timezone, { hint: `IANA name; your browser uses ${VIEWER_TZ}.` }),
  };

  const formError = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'form-error' });
  const validationPanel = h('div', { class: 'validation', 'data-testid': 'validation-panel', 'aria-live': 'polite' });
  const previewPanel = h(
    'section',
    { class: 'panel preview', 'aria-labelledby': 'preview-title', 'data-testid': 'preview-panel', 'aria-live': 'polite' },
    h('h2', { id: 'preview-title' }, `Next ${PREVIEW_COUNT} runs`),
    h('p', { class: 'preview-desc', 'data-testid': 'preview-description' }),
    h('ol', { class: 'preview-list', 'data-testid': 'preview-runs' }),
  );

  const values = () => ({
    name: c.name.value,
    description: c.description.value,
    user_query: c.user_query.value,
    persona: c.persona.value,
    frequency: c.frequency.value,
    scheduled_time: c.scheduled_time.value,
    day_of_week: c.day_of_week.value,
    day_of_month: c.day_of_month.value,
    cron_expression: c.cron_expression.value,
    timezone: c.timezone.value,
  });

  const setFieldError = (name, msg) => {
    const wrap = fields[name];
    if (!wrap) return false;
    const control = c[name];
    wrap.querySelector('.field-error').textContent = msg || '';
    if (msg) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
    wrap.classList.toggle('has-error', Boolean(msg));
    return !wrap.hidden;
  };
  const timingNames = ['frequency', 'scheduled_time', 'day_of_week', 'day_of_month', 'cron_expression', 'timezone'];

  const syncFrequency = () => {
    const f = c.frequency.value;
    const usesTime = f !== 'custom';
    fields.scheduled_time.hidden = !usesTime;
    fields.day_of_week.hidden = f !== 'weekly';
    fields.day_of_month.hidden = f !== 'monthly';
    fields.cron_expression.hidden = f !== 'custom';
    const wantType = f === 'once' ? 'datetime-local' : 'time';
    if (c.scheduled_time.type !== wantType) {
      const old = c.scheduled_time.value;
      c.scheduled_time.type = wantType;
      if (wantType === 'datetime-local') c.scheduled_time.value = isoLocalTomorrowAt(/^\d{2}:\d{2}$/.test(old) ? old : '02:00');
      else c.scheduled_time.value = old.includes('T') ? old.slice(11, 16) : old || '08:00';
    }
    fields.scheduled_time.querySelector('label').textContent = f === 'once' ? 'Date and time' : 'Run time';
  };

  // Live preview: debounced, and only the newest answer is shown.
  let previewSeq = 0;
  let previewTimer = null;
  const refreshPreview = async () => {
    const seq = ++previewSeq;
    const desc = previewPanel.querySelector('.preview-desc');
    const list = previewPanel.querySelector('ol');
    previewPanel.classList.add('is-loading');
    try {
      const res = await api('POST', `/api/v1/schedules/preview?count=${PREVIEW_COUNT}`, { body: timingBody(values()), signal: s.signal });
      if (seq !== previewSeq || !s.alive()) return;
      for (const n of timingNames) setFieldError(n, '');
      // The timing was the last problem: the form-level summary no longer applies.
      if (!form.querySelector('.has-error')) formError.textContent = '';
      const tz = (res && res.timezone) || c.timezone.value || 'UTC';
      desc.textContent = (res && res.schedule_description) || '';
      const runs = Array.isArray(res && res.runs) ? res.runs : [];
      list.replaceChildren(
        ...(runs.length
          ? runs.map((r) =>
              h(
                'li',
                {},
                h('span', {}, formatInstant(r, tz)),
                tz === VIEWER_TZ ? null : h('span', { class: 'muted small' }, ` · your time ${formatInstant(r, VIEWER_TZ, false)}`),
              ),
            )
          : [h('li', { class: 'muted' }, 'No further runs.')]),
      );
    } catch (e) {
      if (seq !== previewSeq || !s.alive() || (e && (e.name === 'AbortError' || e.handled))) return;
      if (e.status === 422) {
        for (const n of timingNames) setFieldError(n, e.fieldErrors[n] || '');
        desc.textContent = 'Fix the highlighted timing fields to see when it will run.';
      } else {
        desc.textContent = `Preview unavailable: ${e.message}`;
      }
      list.replaceChildren();
    } finally {
      if (seq === previewSeq) previewPanel.classList.remove('is-loading');
    }
  };
  const schedulePreview = () => {
    if (previewTimer) s.clear(previewTimer);
    previewTimer = s.timeout(refreshPreview, PREVIEW_DEBOUNCE_MS);
  };
  for (const n of timingNames) {
    c[n].addEventListener('input', schedulePreview);
    c[n].addEventListener('change', schedulePreview);
  }
  c.frequency.addEventListener('change', syncFrequency);

  const renderValidation = (v) => {
    const dims = v && typeof v.dimensions === 'object' && v.dimensions ? v.dimensions : {};
    const dimLabels = { entities: 'Entities', time_scope: 'Time scope', conditions: 'Conditions' };
    const list = (items, testid, cls) =>
      Array.isArray(items) && items.length ? h('ul', { class: cls, 'data-testid': testid }, items.map((x) => h('li', {}, itemText(x)))) : null;
    const score = Number.isFinite(v && v.score) ? Math.max(0, Math.min(100, v.score)) : null;
    validationPanel.replaceChildren(
      h(
        'div',
        { class: `panel ${v && v.valid ? 'panel-ok' : 'panel-warning'}` },
        h(
          'div',
          { class: 'validation-head' },
          h('strong', { 'data-testid': 'validation-verdict' }, v && v.valid ? 'Specific enough to schedule' : 'Too vague to give reliable results'),
          score === null
            ? null
            : h(
                'span',
                { class: 'score' },
                h('meter', { min: '0', max: '100', low: '40', high: '70', optimum: '100', value: String(score), 'aria-label': 'Specificity score' }),
                h('span', { 'data-testid': 'validation-score' }, ` ${score}/100`),
              ),
        ),
        h(
          'dl',
          { class: 'dims' },
          Object.entries(dims).map(([key, d]) => {
            const found = d && typeof d === 'object' ? Boolean(d.found) : Boolean(d);
            const items = d && typeof d === 'object' && Array.isArray(d.items) ? d.items : [];
            return [
              h('dt', {}, h('span', { class: found ? 'mark-ok' : 'mark-missing', 'aria-hidden': 'true' }, found ? '✓' : '✗'), ` ${dimLabels[key] || key.replace(/_/g, ' ')}`),
              h(
                'dd',
                { 'data-testid': `dimension-${key}` },
                items.length ? items.map((it) => h('span', { class: 'chip' }, itemText(it))) : h('span', { class: 'muted' }, found ? 'found' : 'not found'),
              ),
            ];
          }),
        ),
        Array.isArray(v && v.missing) && v.missing.length
          ? h('p', { 'data-testid': 'validation-missing' }, 'Missing: ', v.missing.map(itemText).join(', '))
          : null,
        Array.isArray(v && v.suggestions) && v.suggestions.length
          ? h('div', {}, h('h3', {}, 'Suggestions'), list(v.suggestions, 'validation-suggestions', 'suggestions'))
          : null,
        Array.isArray(v && v.warnings) && v.warnings.length
          ? h('div', { class: 'warnings' }, h('h3', {}, 'Coverage'), list(v.warnings, 'validation-warnings', 'warnings-list'))
          : null,
      ),
    );
  };

  const validateButton = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      'data-testid': 'validate',
      onclick: async () => {
        validateButton.disabled = true;
        setFieldError('user_query', '');
        try {
          const v = await api('POST', '/api/v1/schedules/validate', {
            body: { query: c.user_query.value, persona: c.persona.value, frequency: c.frequency.value },
            signal: s.signal,
          });
          if (s.alive()) renderValidation(v);
        } catch (e) {
          if (!s.alive() || (e && (e.name === 'AbortError' || e.handled))) return;
          if (e.status === 422 && Object.keys(e.fieldErrors).some((k) => k !== '_form')) {
            for (const [k, msg] of Object.entries(e.fieldErrors)) setFieldError(k, msg);
            validationPanel.replaceChildren();
          } else validationPanel.replaceChildren(errorPanel(e));
        } finally {
          validateButton.disabled = false;
        }
      },
    },
    'Validate query',
  );
  fields.user_query.append(h('div', { class: 'field-actions' }, validateButton));

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'submit' }, editing ? 'Save changes' : 'Create schedule');
  const form = h(
    'form',
    {
      class: 'schedule-form',
      novalidate: true,
      'data-testid': 'schedule-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        formError.textContent = '';
        for (const n of Object.keys(fields)) setFieldError(n, '');
        submit.disabled = true;
        try {
          const body = scheduleBody(values(), { editing });
          const saved = editing
            ? await api('PATCH', `/api/v1/schedules/${encodeURIComponent(original.id)}`, { body, signal: s.signal })
            : await api('POST', '/api/v1/schedules', { body, signal: s.signal });
          toast(editing ? `Saved “${saved.name}”.` : `Created “${saved.name}”.`);
          navigate(editing ? `#/schedules/${encodeURIComponent(saved.id)}` : '#/schedules');
        } catch (e) {
          if (!s.alive() || (e && (e.name === 'AbortError' || e.handled))) return;
          const unplaced = [];
          let first = null;
          for (const [k, msg] of Object.entries(e.fieldErrors || {})) {
            if (setFieldError(k, msg)) first = first || c[k];
            else unplaced.push(k === '_form' ? msg : `${k}: ${msg}`);
          }
          if (e.status !== 422 || unplaced.length || !first) {
            formError.textContent = e.status === 422 ? unplaced.join(' ') || e.message : e.message;
          } else {
            formError.textContent = 'Please fix the highlighted fields.';
          }
          (first || formError).focus?.();
        } finally {
          submit.disabled = false;
        }
      },
    },
    formError,
    h(
      'fieldset',
      { class: 'group' },
      h('legend', {}, 'Investigation'),
      h('div', { class: 'grid' }, fields.name, fields.persona, fields.description, fields.user_query, validationPanel),
    ),
    h(
      'fieldset',
      { class: 'group' },
      h('legend', {}, 'When it runs'),
      h('div', { class: 'grid' }, fields.frequency, fields.timezone, fields.scheduled_time, fields.day_of_week, fields.day_of_month, fields.cron_expression),
      zoneList,
      previewPanel,
    ),
    h(
      'div',
      { class: 'actions form-actions' },
      h('a', { class: 'btn', href: editing ? `#/schedules/${encodeURIComponent(original.id)}` : '#/schedules' }, 'Cancel'),
      submit,
    ),
  );
  formError.tabIndex = -1;
  syncFrequency();
  show(heading(editing ? `Edit “${original.name}”` : 'Create schedule'), form);
  focusHeading();
  refreshPreview();
}

// ---------------------------------------------------------------------------------------------------------------
// Schedule detail.

async function viewDetail(s, route) {
  const id = encodeURIComponent(route.id);
  const statusHolder = h('span', { 'data-testid': 'detail-status' });
  const head = inlineHeading('Schedule', statusHolder);
  const actions = h('div', { class: 'detail-actions' });
  const definition = h('div', { class: 'panel definition skeleton-block', 'data-testid': 'definition' });
  const upcoming = h('div', { class: 'upcoming', 'data-testid': 'upcoming' });
  const refreshNote = h('p', { class: 'muted small refresh-note', 'data-testid': 'refresh-note', 'aria-live': 'polite' });
  const columns = ['Status', 'Trigger', 'Scheduled for', 'Duration', 'Session', 'Result'];
  const tbody = h('tbody', { 'data-testid': 'run-rows' }, skeletonRows(columns.length, 3));
  show(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/schedules' }, '← Schedules')),
    head,
    actions,
    definition,
    h(
      'section',
      { 'aria-labelledby': 'runs-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'runs-title' }, 'Runs (last 50)'), refreshNote),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'table table-cards', 'data-testid': 'runs-table' },
          h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
          tbody,
        ),
      ),
    ),
  );
  focusHeading();

  let lastSnapshot = '';
  const load = async () => {
    const [sch, runs, preview] = await Promise.all([
      api('GET', `/api/v1/schedules/${id}`, { signal: s.signal }),
      api('GET', `/api/v1/schedules/${id}/runs`, { signal: s.signal }),
      api('GET', `/api/v1/schedules/${id}/preview?count=${PREVIEW_COUNT}`, { signal: s.signal }).catch((e) => {
        if (e && (e.name === 'AbortError' || e.handled)) throw e;
        return null;
      }),
    ]);
    if (!s.alive()) return;
    const items = Array.isArray(runs && runs.items) ? runs.items : [];
    const inFlight = (sch.runs_in_flight || 0) > 0 || items.some((r) => r.status === 'pending' || r.status === 'running');
    // Re-render only when something changed, so focus and selection survive the periodic refresh.
    const snapshot = JSON.stringify([sch, items, preview && preview.runs]);
    if (snapshot !== lastSnapshot) {
      lastSnapshot = snapshot;
      renderSchedule(sch, preview);
      renderRuns(items, sch);
    }
    refreshNote.textContent = inFlight ? 'A run is in flight: refreshing every few seconds.' : '';
    if (inFlight) s.timeout(() => load().catch(onRefreshError), RUN_REFRESH_MS);
  };
  const onRefreshError = (e) => {
    if (e && (e.name === 'AbortError' || e.handled)) return;
    refreshNote.textContent = `Refresh failed: ${e.message}`;
    s.timeout(() => load().catch(onRefreshError), RUN_REFRESH_MS * 2);
  };
  const reload = () => {
    lastSnapshot = '';
    load().catch(onRefreshError);
  };

  const renderSchedule = (sch, preview) => {
    head.querySelector('h1').textContent = sch.name || sch.id;
    statusHolder.replaceChildren(badge(sch.status, 'status'));
    actions.replaceChildren(
      // Deleting leaves nothing to show here.
      scheduleActions(sch, (action) => (action === 'action-delete' ? navigate('#/schedules') : reload())),
    );
    const tz = sch.timezone || 'UTC';
    const row = (label, value, testid) => [h('dt', {}, label), h('dd', testid ? { 'data-testid': testid } : {}, value)];
    const personaLabel = Object.fromEntries(PERSONAS)[sch.persona] || sch.persona;
    definition.classList.remove('skeleton-block');
    definition.replaceChildren(
      h(
        'dl',
        { class: 'deflist' },
        row('Query', h('p', { class: 'query' }, sch.user_query || ''), 'detail-query'),
        sch.description ? row('Description', sch.description) : null,
        row('Persona', personaLabel),
        row('Runs', sch.schedule_description || sch.frequency, 'detail-frequency'),
        row('Time zone', tz),
        row('Next run', nextRunCell(sch)),
        row('Last run', lastRunCell(sch)),
        row('Consecutive failures', String(sch.consecutive_failures ?? 0)),
        row('Created', formatInstant(sch.created_at, VIEWER_TZ)),
        row('Updated', formatInstant(sch.updated_at, VIEWER_TZ)),
        row('Id', h('code', { class: 'mono' }, sch.id)),
      ),
    );
    const runsAhead = Array.isArray(preview && preview.runs) ? preview.runs : [];
    upcoming.replaceChildren(
      ...(runsAhead.length
        ? [h('h3', {}, 'Upcoming'), h('ol', { class: 'preview-list' }, runsAhead.map((r) => h('li', {}, formatInstant(r, tz))))]
        : []),
    );
    definition.append(upcoming);
  };

  const renderRuns = (items, sch) => {
    if (items.length === 0) {
      tbody.replaceChildren(h('tr', { class: 'empty-row' }, h('td', { colspan: String(columns.length) }, 'No runs yet.')));
      return;
    }
    const tz = sch.timezone || 'UTC';
    tbody.replaceChildren(
      ...items.slice(0, 50).map((r) =>
        h(
          'tr',
          { 'data-testid': 'run-row', 'data-run-id': r.run_id },
          h('td', { 'data-label': 'Status', 'data-testid': 'run-status' }, badge(r.status, 'run')),
          h('td', { 'data-label': 'Trigger', 'data-testid': 'run-trigger' }, r.trigger || '—'),
          h(
            'td',
            { 'data-label': 'Scheduled for' },
            formatInstant(r.scheduled_for, tz),
            tz === VIEWER_TZ ? null : h('div', { class: 'muted small' }, `Your time: ${formatInstant(r.scheduled_for, VIEWER_TZ, false)}`),
          ),
          h('td', { 'data-label': 'Duration', 'data-testid': 'run-duration' }, formatDuration(r.duration_ms)),
          h('td', { 'data-label': 'Session' }, sessionCell(r.session_id, r.session_url)),
          h(
            'td',
            { 'data-label': 'Result', 'data-testid': 'run-result' },
            r.error
              ? h('div', { class: 'run-error' }, h('strong', {}, r.error.kind || 'error'), ': ', r.error.message || '')
              : r.summary
                ? resultText(r.summary)
                : h('span', { class: 'muted' }, '—'),
          ),
        ),
      ),
    );
  };

  await load();
}

// ---------------------------------------------------------------------------------------------------------------
// Notifications.

async function viewNotifications(s, route) {
  const offset = Math.max(0, Number.parseInt(route.params.get('offset') || '0', 10) || 0);
  const list = h(
    'ul',
    { class: 'notifications', 'data-testid': 'notifications', 'aria-busy': 'true' },
    Array.from({ length: 4 }, () => h('li', { class: 'notification skeleton-card', 'aria-hidden': 'true' }, h('span', { class: 'skeleton' }), h('span', { class: 'skeleton skeleton-short' }))),
  );
  const footer = h('div', { class: 'table-footer' }, h('span', { class: 'skeleton skeleton-short', 'aria-hidden': 'true' }));
  show(heading('Notifications'), list, footer);
  focusHeading();

  const page = await api('GET', `/api/v1/notifications?limit=${PAGE_SIZE}&offset=${offset}`, { signal: s.signal });
  if (!s.alive()) return;
  const items = Array.isArray(page && page.items) ? page.items : [];
  const total = Number.isFinite(page && page.total) ? page.total : items.length;
  list.setAttribute('aria-busy', 'false');
  if (items.length === 0) {
    list.replaceChildren(h('li', { class: 'notification empty' }, 'No notifications yet. They appear when scheduled investigations finish.'));
  } else {
    list.replaceChildren(
      ...items.map((n) => {
        const kind = n.event === 'investigation-completed' ? 'ok' : n.event === 'investigation-failed' || n.event === 'schedule-disabled' ? 'bad' : 'info';
        const tz = VIEWER_TZ;
        return h(
          'li',
          { class: `notification notification-${kind}`, 'data-testid': 'notification', 'data-event': n.event },
          h(
            'div',
            { class: 'notification-head' },
            h('span', { class: `badge badge-event-${kind}`, 'data-testid': 'notification-event' }, EVENT_LABELS[n.event] || n.event || 'Event'),
            h(
              'a',
              { href: `#/schedules/${encodeURIComponent(n.schedule_id || '')}`, class: 'row-title', 'data-testid': 'notification-schedule' },
              n.schedule_name || n.schedule_id || 'Schedule',
            ),
            h('span', { class: 'muted small' }, n.created_at ? relativeTime(n.created_at) : ''),
          ),
          h(
            'dl',
            { class: 'notification-meta' },
            h('dt', {}, 'Scheduled for'),
            h('dd', {}, formatInstant(n.scheduled_for, tz)),
            n.finished_at ? [h('dt', {}, 'Finished'), h('dd', {}, formatInstant(n.finished_at, tz))] : null,
            n.duration_ms !== undefined && n.duration_ms !== null ? [h('dt', {}, 'Duration'), h('dd', {}, formatDuration(n.duration_ms))] : null,
            n.session_id ? [h('dt', {}, 'Session'), h('dd', {}, sessionCell(n.session_id, n.session_url))] : null,
          ),
          n.summary ? resultText(n.summary) : null,
          n.error
            ? h('p', { class: 'run-error' }, h('strong', {}, (n.error && n.error.kind) || 'error'), ': ', typeof n.error === 'string' ? n.error : n.error.message || '')
            : null,
        );
      }),
    );
  }
  footer.replaceChildren(
    pager({ offset, limit: PAGE_SIZE, total, hrefFor: (off) => (off ? `#/notifications?offset=${off}` : '#/notifications'), testid: 'notifications-pager' }),
  );
}

function viewNotFound() {
  show(heading('Page not found'), h('p', {}, h('a', { href: '#/schedules' }, 'Go to your schedules')));
  focusHeading();
}

// ---------------------------------------------------------------------------------------------------------------
// Start.

function start() {
  window.addEventListener('hashchange', () => render());
  document.getElementById('skip-link').addEventListener('click', () => {
    const m = main();
    (m.querySelector('h1') || m).focus();
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    setToken(null);
    tokenNotice = 'Token forgotten. Enter a token to continue.';
    render();
  });
  if (getToken()) {
    api('GET', '/api/v1/me')
      .then(showWhoami)
      .catch(() => {
        // A 401 re-renders the token prompt by itself; other errors show up in the views.
      });
  }
  if (!location.hash) history.replaceState(null, '', '#/schedules');
  render();
}

if (typeof document !== 'undefined' && document.getElementById('main')) start();
