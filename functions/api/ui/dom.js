// DOM helpers shared by every view. Everything the API returns is untrusted text: it reaches the page only through
// `h`, which makes strings into text nodes (textContent), never markup; the server's CSP forbids inline script on
// top of that.

const TOAST_MS = 5000;

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

export function main() {
  return document.getElementById('main');
}

/** Replaces the page's content. */
export function show(...nodes) {
  main().replaceChildren(...nodes);
}

export function focusHeading() {
  const h1 = main().querySelector('h1');
  if (h1) h1.focus({ preventScroll: false });
}

export function heading(text, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, text), ...extra);
}

export function inlineHeading(text, ...extra) {
  const head = heading(text, ...extra);
  head.classList.add('page-head-inline');
  return head;
}

export function errorPanel(e, retry) {
  return h(
    'div',
    { class: 'panel panel-error', role: 'alert', 'data-testid': 'error-panel' },
    h('p', {}, e instanceof Error ? e.message : String(e)),
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry }, 'Try again') : null,
  );
}

export function badge(value, kind) {
  const text = value ? String(value) : '—';
  return h('span', { class: `badge badge-${kind}-${text.toLowerCase().replace(/[^a-z]/g, '')}` }, text);
}

export function toast(message, { kind = 'info', link } = {}) {
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

/** The page's one modal dialog; resolves to true when the user confirms. */
export function confirmDialog(title, text, okLabel) {
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

export async function copyText(text, done) {
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
  if (done) toast(done);
}

export function skeletonRows(columns, rows = 5) {
  return Array.from({ length: rows }, () =>
    h(
      'tr',
      { class: 'skeleton-row', 'aria-hidden': 'true' },
      Array.from({ length: columns }, () => h('td', {}, h('span', { class: 'skeleton' }))),
    ),
  );
}

export function pager({ offset, limit, total, hrefFor, testid }) {
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
