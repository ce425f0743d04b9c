// Findings in the UI: the summary badges of a schedule's latest run and of each run ("2 new", the highest
// severity), a run row's expansion into its findings table (severity, title, copyable entities, MITRE ids,
// New/Ongoing) and its Resolved section, and the form's `notify_on` choice with one line for each option.

import { api, isHandled } from '../api.js';
import { h, toast } from '../dom.js';
import { formatInstant } from '../format.js';

/** The `notify_on` choices and what each means. */
export const NOTIFY_ON = [
  ['every_run', 'Every run', 'Every completed run notifies (failures always do).'],
  ['findings', 'Runs with findings', 'A completed run notifies only when it found something.'],
  ['new_findings', 'New findings', 'A completed run notifies only when a finding is new since the previous completed run.'],
  ['failures', 'Failures only', 'Completed runs never notify; failures and a disabled schedule still do.'],
];

function severityBadge(severity) {
  const s = severity ? String(severity) : 'informational';
  return h('span', { class: `badge badge-sev badge-sev-${s.replace(/[^a-z]/g, '')}`, 'data-testid': 'severity' }, s);
}

/** Badges for a findings summary: "N new" (when any), the highest severity, "N resolved"; nothing without one. */
export function findingsBadges(summary) {
  if (!summary || typeof summary !== 'object') return null;
  const parts = [];
  if (summary.new > 0) parts.push(h('span', { class: 'badge badge-finding-new', 'data-testid': 'badge-new' }, `${summary.new} new`));
  if (summary.max_severity) parts.push(severityBadge(summary.max_severity));
  if (summary.resolved > 0) parts.push(h('span', { class: 'badge badge-finding-resolved', 'data-testid': 'badge-resolved' }, `${summary.resolved} resolved`));
  if (parts.length === 0) parts.push(h('span', { class: 'muted small', 'data-testid': 'badge-none' }, 'no findings'));
  return h('span', { class: 'finding-badges', 'data-testid': 'findings-badges' }, parts);
}

function copyButton(value) {
  return h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small copy',
      'aria-label': `Copy ${value}`,
      'data-testid': 'copy-entity',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(value);
          toast(`Copied ${value}`);
        } catch {
          toast('Copy is not available here; select the text instead.', { kind: 'error' });
        }
      },
    },
    'Copy',
  );
}

function entitiesCell(entities) {
  const list = Array.isArray(entities) ? entities : [];
  if (list.length === 0) return h('span', { class: 'muted' }, '—');
  return h(
    'ul',
    { class: 'entities' },
    list.map((e) =>
      h(
        'li',
        { 'data-testid': 'entity' },
        e.type ? h('span', { class: 'muted small' }, `${e.type}: `) : null,
        h('code', { class: 'mono' }, e.value),
        ' ',
        copyButton(e.value),
      ),
    ),
  );
}

function mitreCell(ids) {
  const list = Array.isArray(ids) ? ids : [];
  if (list.length === 0) return h('span', { class: 'muted' }, '—');
  return list.map((id) => h('span', { class: 'badge badge-mitre', 'data-testid': 'mitre' }, id));
}

/** The findings table and the Resolved section of one run in full (`GET .../runs/{run_id}`). */
export function findingsPanel(run, tz) {
  const findings = Array.isArray(run.findings) ? run.findings : [];
  const resolved = Array.isArray(run.resolved) ? run.resolved : [];
  const table = findings.length
    ? h(
        'table',
        { class: 'table findings-table', 'data-testid': 'findings-table' },
        h('thead', {}, h('tr', {}, ['Severity', 'Finding', 'Entities', 'MITRE', 'Since'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          findings.map((f) =>
            h(
              'tr',
              { 'data-testid': 'finding-row', 'data-fingerprint': f.fingerprint },
              h('td', { 'data-label': 'Severity' }, severityBadge(f.severity)),
              h(
                'td',
                { 'data-label': 'Finding' },
                h('span', { class: `badge badge-finding-${f.status}`, 'data-testid': 'finding-status' }, f.status === 'new' ? 'New' : 'Ongoing'),
                ' ',
                h('strong', { 'data-testid': 'finding-title' }, f.title),
                f.description ? h('div', { class: 'muted small' }, f.description) : null,
              ),
              h('td', { 'data-label': 'Entities' }, entitiesCell(f.entities)),
              h('td', { 'data-label': 'MITRE' }, mitreCell(f.mitre_techniques)),
              h('td', { 'data-label': 'Since' }, formatInstant(f.first_seen_at, tz)),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'This run found nothing.');
  const resolvedSection = resolved.length
    ? h(
        'section',
        { class: 'resolved', 'data-testid': 'resolved-section' },
        h('h4', {}, `Resolved (${resolved.length})`),
        h('p', { class: 'muted small' }, 'Reported by the previous completed run, not by this one.'),
        h(
          'ul',
          {},
          resolved.map((r) =>
            h(
              'li',
              { 'data-testid': 'resolved-finding' },
              severityBadge(r.severity),
              ' ',
              h('span', { 'data-testid': 'resolved-title' }, r.title),
              h('span', { class: 'muted small' }, ` — last seen ${formatInstant(r.last_seen_at, tz)}`),
            ),
          ),
        ),
      )
    : null;
  const skipped = run.findings_summary && run.findings_summary.skipped > 0
    ? h('p', { class: 'muted small' }, `${run.findings_summary.skipped} malformed or surplus findings from the engine were left out.`)
    : null;
  return h('div', { class: 'findings-panel', 'data-testid': 'findings-panel' }, table, resolvedSection, skipped);
}

/**
 * A "Findings" button for a completed run's row: it opens a row below with the run's findings, fetched in full,
 * and closes it again. `columns` is the table's column count.
 */
export function findingsToggle(run, scheduleId, tz, columns, signal) {
  if (run.status !== 'completed' || !run.findings_summary) return null;
  const total = run.findings_summary.total || 0;
  const resolved = run.findings_summary.resolved || 0;
  if (total === 0 && resolved === 0) return null;
  const button = h('button', { type: 'button', class: 'btn btn-small', 'aria-expanded': 'false', 'data-testid': 'findings-toggle' }, `Findings (${total})`);
  let detailRow = null;
  button.addEventListener('click', async () => {
    const row = button.closest('tr');
    if (detailRow) {
      detailRow.remove();
      detailRow = null;
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    button.disabled = true;
    try {
      const full = await api('GET', `/api/v1/schedules/${encodeURIComponent(scheduleId)}/runs/${encodeURIComponent(run.run_id)}`, { signal });
      detailRow = h('tr', { class: 'findings-row', 'data-testid': 'findings-row' }, h('td', { colspan: String(columns) }, findingsPanel(full, tz)));
      row.after(detailRow);
      button.setAttribute('aria-expanded', 'true');
    } catch (e) {
      if (!isHandled(e)) toast(`Could not load the findings: ${e.message}`, { kind: 'error' });
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** The form's `notify_on` field: one radio per choice with its explanation; `control.value` is the choice. */
export function notifyOnField(initial) {
  const current = NOTIFY_ON.some(([v]) => v === initial) ? initial : 'every_run';
  const control = h(
    'div',
    { role: 'radiogroup', 'aria-labelledby': 'label-notify_on', class: 'choices', 'data-testid': 'input-notify_on' },
    NOTIFY_ON.map(([value, label, line]) =>
      h(
        'label',
        { class: 'choice' },
        h('input', { type: 'radio', name: 'notify_on', value, checked: value === current, 'data-testid': `notify-${value}` }),
        h('span', {}, h('strong', {}, label), h('span', { class: 'muted small choice-line' }, line)),
      ),
    ),
  );
  Object.defineProperty(control, 'value', {
    get: () => (control.querySelector('input[name="notify_on"]:checked') || {}).value || 'every_run',
  });
  const wrap = h(
    'div',
    { class: 'field field-wide', 'data-field': 'notify_on' },
    h('span', { class: 'label', id: 'label-notify_on' }, 'Notify on'),
    control,
    h('p', { class: 'field-error', id: 'error-notify_on', 'data-testid': 'error-notify_on' }),
  );
  return { wrap, control };
}
