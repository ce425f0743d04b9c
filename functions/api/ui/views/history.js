// A schedule's history (its audit trail): who changed what, when and why, newest first, on the schedule's page;
// with a small form to pause it with a reason. Also the pause reason shown next to PAUSED in the list.

import { api, isHandled } from '../api.js';
import { h, toast } from '../dom.js';
import { VIEWER_TZ, formatInstant } from '../format.js';

const HISTORY_LIMIT = 50;
export const REASON_MAX = 500;

const ACTION_LABELS = {
  created: 'Created',
  updated: 'Edited',
  paused: 'Paused',
  resumed: 'Resumed',
  re_enabled: 'Re-enabled',
  deleted: 'Deleted',
  run_requested: 'Run requested',
  disabled: 'Disabled',
  completed: 'Completed',
};

/** The pause reason of a paused schedule, as a small note beside its status badge (nothing otherwise). */
export function pauseReasonNote(sch) {
  if (sch.status !== 'PAUSED' || !sch.pause_reason) return null;
  return h('span', { class: 'muted small pause-reason', 'data-testid': 'pause-reason', title: sch.pause_reason }, sch.pause_reason);
}

function changeText(c) {
  const show = (v) => (v === null || v === undefined || v === '' ? '—' : v);
  return h('li', {}, h('code', { class: 'mono' }, c.field), ': ', show(c.old), ' → ', show(c.new));
}

function eventRow(e) {
  return h(
    'li',
    { class: 'history-event', 'data-testid': 'history-event', 'data-action': e.action },
    h(
      'div',
      {},
      h('strong', { 'data-testid': 'history-action' }, ACTION_LABELS[e.action] || e.action),
      ' by ',
      h('span', { 'data-testid': 'history-actor' }, e.actor),
      h('span', { class: 'muted small' }, ` · ${formatInstant(e.at, VIEWER_TZ)}`),
    ),
    e.reason ? h('div', { class: 'history-reason', 'data-testid': 'history-reason' }, e.reason) : null,
    Array.isArray(e.changes) && e.changes.length ? h('ul', { class: 'history-changes small' }, e.changes.map(changeText)) : null,
  );
}

/**
 * The History section of a schedule's page. `node` goes into the page; `refresh(sch)` reloads it for the schedule
 * as just read; `after()` is called when the pause form changed the schedule.
 */
export function historySection(s, after) {
  const list = h('ol', { class: 'history-list', 'data-testid': 'history-list' });
  const form = h('div', { class: 'history-pause' });
  const node = h(
    'section',
    { 'aria-labelledby': 'history-title', 'data-testid': 'history' },
    h('div', { class: 'section-head' }, h('h2', { id: 'history-title' }, 'History')),
    form,
    list,
  );

  const pauseForm = (sch) => {
    if (sch.status !== 'ACTIVE') return [];
    const input = h('input', {
      type: 'text',
      id: 'pause-reason',
      maxlength: String(REASON_MAX),
      placeholder: 'Why? (optional, kept in the history)',
      'data-testid': 'pause-reason-input',
    });
    const button = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-small',
        'data-testid': 'pause-with-reason',
        onclick: async () => {
          button.disabled = true;
          try {
            const reason = input.value.trim();
            await api('POST', `/api/v1/schedules/${encodeURIComponent(sch.id)}/pause`, { body: reason ? { reason } : {} });
            toast(`Paused “${sch.name || sch.id}”.`);
            after();
          } catch (e) {
            if (!isHandled(e)) toast(e instanceof Error ? e.message : String(e), { kind: 'error' });
          } finally {
            button.disabled = false;
          }
        },
      },
      'Pause with reason',
    );
    return [h('label', { for: 'pause-reason' }, 'Pause reason'), input, button];
  };

  const refresh = async (sch) => {
    form.replaceChildren(...pauseForm(sch));
    try {
      const page = await api('GET', `/api/v1/schedules/${encodeURIComponent(sch.id)}/history?limit=${HISTORY_LIMIT}`, { signal: s.signal });
      if (!s.alive()) return;
      const items = Array.isArray(page && page.items) ? page.items : [];
      list.replaceChildren(...(items.length ? items.map(eventRow) : [h('li', { class: 'muted' }, 'No changes recorded.')]));
    } catch (e) {
      if (isHandled(e)) return;
      list.replaceChildren(h('li', { class: 'muted' }, `History unavailable: ${e.message}`));
    }
  };

  return { node, refresh };
}
