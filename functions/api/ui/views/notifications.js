// Notifications (`#/notifications`): what the caller's scheduled investigations reported, newest first, paged.

import { api } from '../api.js';
import { focusHeading, h, heading, pager, show } from '../dom.js';
import { VIEWER_TZ, formatDuration, formatInstant, relativeTime } from '../format.js';
import { resultText, sessionCell } from './parts.js';

const PAGE_SIZE = 20;
const EVENT_LABELS = {
  'investigation-completed': 'Investigation completed',
  'investigation-failed': 'Investigation failed',
  'schedule-disabled': 'Schedule disabled',
};

export async function viewNotifications(s, route) {
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
