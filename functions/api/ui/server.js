// What this server told us about itself and the caller (`GET /api/v1/me`): who is signed in, which personas it
// accepts and its input limits. Fetched once after sign-in and kept until the token is forgotten, so a persona added
// with PERSONAS on the server can be picked here without a new UI.

import { api } from './api.js';

// Labels for the personas the product ships with; any other persona the server accepts is shown by its name.
const PERSONA_LABELS = { soc_analyst: 'SOC analyst', ciso: 'CISO' };

// The server's limits when it does not send them (an older API); the same values as the server's constants.
const DEFAULT_LIMITS = { name_max: 200, description_max: 2000, query_max: 4000, list_limit_max: 100, preview_count_max: 100 };

let known = null;
let pending = null;

/** Keeps an answer of `GET /api/v1/me` (the sign-in form already has one). */
export function rememberServer(me) {
  known = me && typeof me === 'object' ? me : null;
  pending = null;
}

export function forgetServer() {
  known = null;
  pending = null;
}

/** The caller and server facts, from memory or one shared request; a failed request is not remembered. */
export function loadServer() {
  if (known) return Promise.resolve(known);
  if (!pending) {
    const request = api('GET', '/api/v1/me').then(
      (me) => {
        if (pending === request) rememberServer(me);
        return me;
      },
      (e) => {
        if (pending === request) pending = null;
        throw e;
      },
    );
    pending = request;
  }
  return pending;
}

export function personaLabel(persona) {
  return PERSONA_LABELS[persona] || persona;
}

/**
 * The persona choices `[value, label]` for a form: the server's list, plus the schedule's own persona when the
 * server no longer lists it (so that opening an old schedule does not silently change it).
 */
export function personaOptions(personas, current) {
  const list = Array.isArray(personas) ? personas.filter((p) => typeof p === 'string' && p) : [];
  if (current && !list.includes(current)) list.push(current);
  return list.map((p) => [p, personaLabel(p)]);
}

/** The server's input limits, each a positive whole number, falling back to the defaults one by one. */
export function limitsOf(me) {
  const given = me && typeof me === 'object' && me.limits && typeof me.limits === 'object' ? me.limits : {};
  const out = {};
  for (const [key, fallback] of Object.entries(DEFAULT_LIMITS)) {
    const v = given[key];
    out[key] = Number.isInteger(v) && v > 0 ? v : fallback;
  }
  return out;
}
