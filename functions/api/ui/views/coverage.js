// The coverage strip on a schedule's page (`GET /schedules/{id}/coverage`): the last 30 days of data time as one
// bar — covered, in progress, and gaps coloured by reason — with a legend, the covered ratio, and a "Fill gaps"
// button (`POST /schedules/{id}/coverage/fill`). Every segment is focusable and says its span and state as text, so
// the strip reads the same without colour or a mouse. Also the window text of a run row.

import { api, isHandled } from '../api.js';
import { h, toast } from '../dom.js';
import { formatInstant } from '../format.js';

const GAP_LABELS = {
  failed: 'Failed run',
  skipped: 'Skipped (overlap)',
  paused: 'Paused',
  disabled: 'Disabled',
  missed: 'Missed (beyond max catch-up)',
};

/** "from – to" of a run's data window in `tz`, or a dash for runs from before windows. */
export function windowText(run, tz) {
  if (!run || !run.window_start || !run.window_end) return '—';
  return `${formatInstant(run.window_start, tz)} – ${formatInstant(run.window_end, tz)}`;
}

/** The segments of a coverage answer, sorted, each with its share of the span (pure; tested in node). */
export function segmentsOf(coverage) {
  const from = Date.parse(coverage.from);
  const to = Date.parse(coverage.to);
  const total = Math.max(1, to - from);
  const list = [
    ...(coverage.covered || []).map((s) => ({ ...s, kind: 'covered', label: 'Covered' })),
    ...(coverage.in_progress || []).map((s) => ({ ...s, kind: 'progress', label: 'In progress' })),
    ...(coverage.gaps || []).map((s) => ({ ...s, kind: `gap-${s.reason}`, label: `Gap: ${GAP_LABELS[s.reason] || s.reason}` })),
  ];
  return list
    .map((s) => ({ ...s, left: (Date.parse(s.start) - from) / total, width: (Date.parse(s.end) - Date.parse(s.start)) / total }))
    .sort((a, b) => a.left - b.left);
}

/** The coverage panel of schedule `id`; `reload` refreshes it (the detail view calls it with its own refresh). */
export function coveragePanel(s, id, tz, onFilled) {
  const ratio = h('span', { class: 'coverage-ratio', 'data-testid': 'coverage-ratio' });
  const strip = h('div', { class: 'coverage-strip', role: 'list', 'aria-label': 'Coverage of the last 30 days', 'data-testid': 'coverage-strip' });
  const status = h('p', { class: 'muted small', 'aria-live': 'polite', 'data-testid': 'coverage-status' });
  const fill = h('button', { type: 'button', class: 'btn', 'data-testid': 'fill-gaps' }, 'Fill gaps');
  const legend = h(
    'ul',
    { class: 'coverage-legend', 'aria-label': 'Legend' },
    [['covered', 'Covered'], ['progress', 'In progress'], ...Object.entries(GAP_LABELS).map(([k, v]) => [`gap-${k}`, v])].map(([k, v]) =>
      h('li', {}, h('span', { class: `swatch seg-${k}`, 'aria-hidden': 'true' }), v),
    ),
  );
  const panel = h(
    'section',
    { class: 'panel coverage', 'aria-labelledby': 'coverage-title', 'data-testid': 'coverage-panel' },
    h('div', { class: 'section-head' }, h('h2', { id: 'coverage-title' }, 'Coverage (last 30 days)'), ratio, fill),
    strip,
    legend,
    status,
  );
  const reload = async () => {
    const c = await api('GET', `/api/v1/schedules/${id}/coverage`, { signal: s.signal });
    if (!s.alive()) return;
    ratio.textContent = `${(Number(c.covered_ratio || 0) * 100).toFixed(1)} % covered`;
    const segments = segmentsOf(c);
    strip.replaceChildren(
      ...segments.map((seg) => {
        const text = `${seg.label}: ${formatInstant(seg.start, tz)} – ${formatInstant(seg.end, tz)}`;
        const el = h(
          'span',
          {
            class: `seg seg-${seg.kind}`,
            role: 'listitem',
            tabindex: '0',
            title: text,
            'aria-label': text,
            'data-testid': 'coverage-segment',
            'data-kind': seg.kind,
          },
          h('span', { class: 'visually-hidden' }, text),
        );
        // Through the CSSOM: the CSP forbids inline style attributes. A short span stays visible (3 px).
        el.style.left = `${(seg.left * 100).toFixed(3)}%`;
        el.style.width = `max(${(seg.width * 100).toFixed(3)}%, 3px)`;
        return el;
      }),
    );
    const gaps = (c.gaps || []).length;
    fill.disabled = gaps === 0;
    status.textContent = gaps ? `${gaps} gap${gaps === 1 ? '' : 's'} not covered.` : 'No gaps.';
    return c;
  };
  fill.addEventListener('click', async () => {
    fill.disabled = true;
    try {
      const runs = await api('POST', `/api/v1/schedules/${id}/coverage/fill`, { signal: s.signal });
      toast(`${runs.length} backfill run${runs.length === 1 ? '' : 's'} started.`, { kind: 'ok' });
      if (onFilled) onFilled();
    } catch (e) {
      if (!isHandled(e)) toast(e.message, { kind: 'error' });
    }
    await reload().catch(() => {});
  });
  return { panel, reload };
}
