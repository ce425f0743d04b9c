// Hash routing and each view's lifetime. A view gets a scope: its fetches are aborted and its timers cleared when
// the user navigates away, so a slow answer can never draw over the next page. app.js registers the renderer.

/** `#/schedules`, `#/schedules/new`, `#/schedules/{id}`, `#/schedules/{id}/edit`, `#/notifications`. */
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
export function newScope() {
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

let renderer = () => {};

export function setRenderer(fn) {
  renderer = fn;
}

/** Draws the current route again. */
export function rerender() {
  return renderer();
}

/** Goes to `hash`; draws it again when it is already the current one. */
export function navigate(hash) {
  if (location.hash === hash) rerender();
  else location.hash = hash;
}
