// The API client: the bearer token (kept in this tab's session storage), one `api()` call that every view uses, and
// how an error answer becomes a message or per-field messages. Nothing here touches the page; a 401 is reported to
// the handler that app.js registers, which brings back the token prompt.

const TOKEN_KEY = 'scheduled-investigations.token';
// The API names the query `query` on /validate and `user_query` on the schedule; both belong to one form field.
const FIELD_ALIASES = { query: 'user_query' };

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

export class ApiError extends Error {
  constructor(status, body) {
    super(detailMessage(status, body));
    this.status = status;
    this.body = body;
    this.fieldErrors = status === 422 ? fieldErrorsOf(body) : {};
  }
}

/** True for an error the user needs not see: a fetch aborted by navigation, or one already dealt with (a 401). */
export function isHandled(e) {
  return Boolean(e && (e.name === 'AbortError' || e.handled));
}

let memoryToken = null;
let tokenSource = null;

/** With OpenID Connect sign-in the bearer comes from auth.js instead of a pasted token. */
export function setTokenSource(fn) {
  tokenSource = fn;
}

export function getToken() {
  if (tokenSource) return tokenSource();
  try {
    return sessionStorage.getItem(TOKEN_KEY) || memoryToken;
  } catch {
    return memoryToken;
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled; the token then lasts only as long as this page.
  }
  memoryToken = token;
}

let onUnauthorized = () => {};

/** Who hears that the server rejected the stored token (after it has been forgotten); gets the message to show. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export async function readJson(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

/** Calls the API with the stored token; resolves to the JSON answer (null for 204), rejects with an ApiError. */
export async function api(method, path, { body, signal } = {}) {
  const token = getToken();
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
    onUnauthorized(`The server rejected your token (401: ${err.message}). Enter a valid API token to continue.`);
    err.handled = true;
    throw err;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Tries a token before keeping it: `GET /api/v1/me` with that token only. Resolves to `{status, data}`. */
export async function probeToken(token) {
  const res = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
  return { status: res.status, ok: res.ok, data: await readJson(res) };
}
