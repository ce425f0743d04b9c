// The schedules list (`#/schedules`): one page of the caller's schedules, a status filter, the lifecycle buttons on
// each row and a pager.

import { findingsBadges } from './findings.js';
import { api } from '../api.js';
import { badge, focusHeading, h, heading, pager, show, skeletonRows } from '../dom.js';
import { navigate, rerender } from '../router.js';
import { lastRunCell, nextRunCell, scheduleActions } from './parts.js';
import { pauseReasonNote } from './history.js';

const PAGE_SIZE = 20;

export async function viewList(s, route) {
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
    rerender();
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
    const again = () => rerender();
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
          h('td', { 'data-label': 'Last run' }, lastRunCell(sch), sch.findings_summary ? h('div', {}, findingsBadges(sch.findings_summary)) : null),
          h('td', { 'data-label': 'Status', 'data-testid': 'status' }, badge(sch.status, 'status'), pauseReasonNote(sch)),
          h('td', { 'data-label': 'Actions' }, scheduleActions(sch, again)),
        ),
      ),
    );
  }
  footer.replaceChildren(pager({ offset, limit: PAGE_SIZE, total, hrefFor, testid: 'schedules-pager' }));
}
