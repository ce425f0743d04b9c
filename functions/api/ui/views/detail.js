// The schedule detail (`#/schedules/{id}`): its definition, the next runs, the lifecycle buttons and its last 50
// runs. While a run is in flight the view refreshes itself in place every few seconds, and stops when none is.

import { api, isHandled } from '../api.js';
import { badge, focusHeading, h, inlineHeading, show, skeletonRows } from '../dom.js';
import { VIEWER_TZ, formatDuration, formatInstant } from '../format.js';
import { navigate } from '../router.js';
import { personaLabel } from '../server.js';
import { historySection, pauseReasonNote } from './history.js';
import { findingsBadges, findingsToggle } from './findings.js';
import { coveragePanel, windowText } from './coverage.js';
import { lastRunCell, nextRunCell, resultText, scheduleActions, sessionCell } from './parts.js';

const RUN_REFRESH_MS = 3000;
const PREVIEW_COUNT = 5;

export async function viewDetail(s, route) {
  const id = encodeURIComponent(route.id);
  const statusHolder = h('span', { 'data-testid': 'detail-status' });
  const head = inlineHeading('Schedule', statusHolder);
  const actions = h('div', { class: 'detail-actions' });
  const definition = h('div', { class: 'panel definition skeleton-block', 'data-testid': 'definition' });
  const upcoming = h('div', { class: 'upcoming', 'data-testid': 'upcoming' });
  const refreshNote = h('p', { class: 'muted small refresh-note', 'data-testid': 'refresh-note', 'aria-live': 'polite' });
  const columns = ['Status', 'Trigger', 'Scheduled for', 'Data window', 'Duration', 'Session', 'Result'];
  const tbody = h('tbody', { 'data-testid': 'run-rows' }, skeletonRows(columns.length, 3));
  const history = historySection(s, () => reload());
  const coverage = coveragePanel(s, id, VIEWER_TZ, () => reload());
  show(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/schedules' }, '← Schedules')),
    head,
    actions,
    definition,
    coverage.panel,
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
    history.node,
  );
  focusHeading();

  let lastSnapshot = '';
  const load = async () => {
    const [sch, runs, preview] = await Promise.all([
      api('GET', `/api/v1/schedules/${id}`, { signal: s.signal }),
      api('GET', `/api/v1/schedules/${id}/runs`, { signal: s.signal }),
      api('GET', `/api/v1/schedules/${id}/preview?count=${PREVIEW_COUNT}`, { signal: s.signal }).catch((e) => {
        if (isHandled(e)) throw e;
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
    await coverage.reload().catch((e) => {
      if (isHandled(e)) throw e;
    });
    refreshNote.textContent = inFlight ? 'A run is in flight: refreshing every few seconds.' : '';
    if (inFlight) s.timeout(() => load().catch(onRefreshError), RUN_REFRESH_MS);
  };
  const onRefreshError = (e) => {
    if (isHandled(e)) return;
    refreshNote.textContent = `Refresh failed: ${e.message}`;
    s.timeout(() => load().catch(onRefreshError), RUN_REFRESH_MS * 2);
  };
  const reload = () => {
    lastSnapshot = '';
    load().catch(onRefreshError);
  };

  const renderSchedule = (sch, preview) => {
    head.querySelector('h1').textContent = sch.name || sch.id;
    statusHolder.replaceChildren(badge(sch.status, 'status'), pauseReasonNote(sch) || '');
    history.refresh(sch);
    actions.replaceChildren(
      // Deleting leaves nothing to show here.
      scheduleActions(sch, (action) => (action === 'action-delete' ? navigate('#/schedules') : reload())),
    );
    const tz = sch.timezone || 'UTC';
    const row = (label, value, testid) => [h('dt', {}, label), h('dd', testid ? { 'data-testid': testid } : {}, value)];
    definition.classList.remove('skeleton-block');
    definition.replaceChildren(
      h(
        'dl',
        { class: 'deflist' },
        row('Query', h('p', { class: 'query' }, sch.user_query || ''), 'detail-query'),
        sch.description ? row('Description', sch.description) : null,
        row('Persona', personaLabel(sch.persona), 'detail-persona'),
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
          h('td', { 'data-label': 'Data window', 'data-testid': 'run-window' }, windowText(r, tz)),
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
            r.findings_summary ? h('div', { class: 'run-findings' }, findingsBadges(r.findings_summary), ' ', findingsToggle(r, sch.id, tz, columns.length, s.signal)) : null,
            r.notification && r.notification.sent === false ? h('div', { class: 'muted small', 'data-testid': 'notification-suppressed' }, `Not notified: ${r.notification.reason || 'suppressed'}`) : null,
          ),
        ),
      ),
    );
  };

  await load();
}
