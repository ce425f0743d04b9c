// Signing in with the organisation's identity provider: OpenID Connect, authorization code flow with PKCE, as a
// public client (no secret in the browser). The protocol work (discovery, PKCE, the callback's checks, the token
// request and the ID token's claims) is the vendored oauth4webapi library's; this module only keeps the state.
//
// The settings come from GET /ui/config.json (the server's OIDC_* variables; on AWS the template's JwtIssuer,
// UiClientId, UiScopes, UiResource). The bearer sent to the API is the ACCESS token: it is the token meant for a
// resource server, and the one whose audience the API's authorizer checks (Entra ID issues it for the API's scope;
// Cognito's carries client_id, which the HTTP API authorizer matches against its audiences). The ID token is for this
// page only (who signed in; the hint when signing out).
//
// Tokens live in this tab's sessionStorage (a reload keeps the session, closing the tab ends it), never in
// localStorage. When the access token expires or the API answers 401, the user is sent through the provider again,
// back to the page they were on; the provider's own session usually makes that a quick round trip.

import * as oauth from './vendor/oauth4webapi.js';

const TOKENS_KEY = 'scheduled-investigations.oidc-tokens';
const PENDING_KEY = 'scheduled-investigations.oidc-pending';
/** A token this close to its expiry is treated as expired (the request would race it). */
const EXPIRY_MARGIN_MS = 30_000;
/** A 401 for a token younger than this is a configuration problem, not an expiry: no automatic new sign-in. */
const FRESH_TOKEN_MS = 60_000;

let config = { mode: 'token' };
let metadata = null;

/** Reads GET /ui/config.json once; `{mode: 'token'}` (paste a token) when the server sends nothing usable. */
export async function loadSignInConfig() {
  try {
    const res = await fetch('/ui/config.json', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    const body = res.ok ? await res.json() : null;
    if (body && typeof body.mode === 'string') config = body;
  } catch {
    // The page still works with a pasted token; the API answers will say what is wrong.
  }
  return config;
}

/** `token`, `oidc` or `unconfigured`. */
export function signInMode() {
  return config.mode;
}

function redirectUri() {
  return `${location.origin}/`;
}

function issuerUrl() {
  return new URL(config.issuer);
}

/** Plain http is only ever allowed to a provider on this machine (the local OIDC mode's tests and trials). */
function options() {
  const host = issuerUrl().hostname;
  const loopback = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  return loopback ? { [oauth.allowInsecureRequests]: true } : {};
}

function client() {
  return { client_id: config.client_id };
}

/** The provider's metadata, from `{issuer}/.well-known/openid-configuration` (once per page). */
async function discover() {
  if (!metadata) {
    const issuer = issuerUrl();
    const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...options() });
    metadata = await oauth.processDiscoveryResponse(issuer, res);
  }
  return metadata;
}

function readJson(storageKey) {
  try {
    const text = sessionStorage.getItem(storageKey);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function writeJson(storageKey, value) {
  try {
    if (value) sessionStorage.setItem(storageKey, JSON.stringify(value));
    else sessionStorage.removeItem(storageKey);
  } catch {
    // Storage disabled: sign-in cannot survive the redirect; the sign-in view reports the failed callback.
  }
}

/** The access token to send, or null when there is none or it has (nearly) expired. */
export function accessToken() {
  const tokens = readJson(TOKENS_KEY);
  if (!tokens || typeof tokens.access_token !== 'string') return null;
  if (typeof tokens.expires_at === 'number' && Date.now() > tokens.expires_at - EXPIRY_MARGIN_MS) return null;
  return tokens.access_token;
}

/** True when this tab had tokens that have since expired (so a new sign-in can start without asking). */
export function sessionExpired() {
  const tokens = readJson(TOKENS_KEY);
  return Boolean(tokens && tokens.access_token && !accessToken());
}

/** True when the current token was obtained a moment ago (a 401 then is not an expiry). */
export function tokenIsFresh() {
  const tokens = readJson(TOKENS_KEY);
  return Boolean(tokens && typeof tokens.obtained_at === 'number' && Date.now() - tokens.obtained_at < FRESH_TOKEN_MS);
}

/** Forgets the tokens of this tab (not the provider's session). */
export function forgetTokens() {
  writeJson(TOKENS_KEY, null);
}

/** Sends the browser to the provider's authorization endpoint; comes back to `returnTo` (a `#/...` route). */
export async function beginSignIn(returnTo) {
  const as = await discover();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  writeJson(PENDING_KEY, { verifier, state, nonce, returnTo: returnTo && returnTo.startsWith('#/') ? returnTo : '#/schedules' });
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', config.client_id);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('scope', config.scopes || 'openid');
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  if (config.resource) url.searchParams.set('resource', config.resource);
  location.assign(url.href);
}

/** True when this page load is the provider sending the browser back (a `code` or `error` in the query). */
export function isCallback() {
  const params = new URLSearchParams(location.search);
  return config.mode === 'oidc' && (params.has('code') || params.has('error')) && params.has('state');
}

/**
 * Finishes a sign-in on the callback: checks state and issuer, exchanges the code (with the PKCE verifier) for
 * tokens, checks the ID token's claims and nonce, keeps the tokens and puts the route the user wanted back in the
 * address bar (without the code). Rejects with an Error whose message can be shown.
 */
export async function completeSignIn() {
  const pending = readJson(PENDING_KEY);
  writeJson(PENDING_KEY, null);
  const callback = new URL(location.href);
  history.replaceState(null, '', `/${pending?.returnTo || '#/schedules'}`);
  if (!pending) throw new Error('This sign-in was not started from this tab (or it was already finished). Sign in again.');
  const as = await discover();
  let params;
  try {
    params = oauth.validateAuthResponse(as, client(), callback, pending.state);
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) {
      throw new Error(`The identity provider refused the sign-in: ${e.error_description || e.error}.`);
    }
    throw e;
  }
  const res = await oauth.authorizationCodeGrantRequest(as, client(), oauth.None(), params, redirectUri(), pending.verifier, options());
  const result = await oauth.processAuthorizationCodeResponse(as, client(), res, { expectedNonce: pending.nonce, requireIdToken: true });
  const now = Date.now();
  writeJson(TOKENS_KEY, {
    access_token: result.access_token,
    id_token: result.id_token,
    obtained_at: now,
    expires_at: typeof result.expires_in === 'number' ? now + result.expires_in * 1000 : undefined,
  });
}

/**
 * Signs out: forgets this tab's tokens, then ends the provider's session too when it offers RP-initiated logout
 * (`end_session_endpoint`), coming back to this page. Resolves to true when the browser is being sent away.
 */
export async function signOut() {
  const tokens = readJson(TOKENS_KEY);
  forgetTokens();
  let as;
  try {
    as = await discover();
  } catch {
    return false;
  }
  if (!as.end_session_endpoint) return false;
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set('client_id', config.client_id);
  url.searchParams.set('post_logout_redirect_uri', redirectUri());
  if (tokens && tokens.id_token) url.searchParams.set('id_token_hint', tokens.id_token);
  location.assign(url.href);
  return true;
}
