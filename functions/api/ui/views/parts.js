// Pieces the schedules list, the schedule detail and the notifications share: a run's result, its session link,
// a schedule's next and last run, and the lifecycle buttons.

import { api } from '../api.js';
import { badge, confirmDialog, copyText, h, toast } from '../dom.js';
import { VIEWER_TZ, formatInstant, itemText, relativeTime } from '../format.js';

// An investigation's result, which can run to paragraphs: two lines in the table, the whole text on request
// (a native <details>, so it works with the keyboard and screen readers).
export function resultText(value) {
  const full = typeof value === 'string' ? value : itemText(value);
  if (full.length <= 80) return h('div', { class: 'result-text' }, full);
  return h(
    'details',
    { class: 'long-text', 'data-testid': 'result-text' },
    h('summary', {}, h('span', { class: 'clamp' }, full), h('span', { class: 'more', 'aria-hidden': 'true' })),
    h('div', { class: 'full' }, full),
  );
}

// The session id, linked to the engine's UI when the server knows where that is (SESSION_URL_TEMPLATE), and a copy
// button. Only http(s) links are followed, whatever the API sends.
export function sessionCell(sessionId, sessionUrl) {
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
      { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Copy session id ${id}`, onclick: () => copyText(id, 'Session id copied.') },
      'Copy',
    ),
  );
}

export function nextRunCell(s) {
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

export function lastRunCell(s) {
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
export function scheduleActions(s, after, { withEdit = true } = {}) {
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
