// The schedule form (`#/schedules/new`, `#/schedules/{id}/edit`): the definition with the specificity check
// (`POST /schedules/validate`), a debounced live preview of the next runs (`POST /schedules/preview`), and field
// errors placed next to the field the server names. The persona choice and the length limits come from the server
// (`GET /api/v1/me`).

import { notifyOnField } from './findings.js';
import { api, isHandled } from '../api.js';
import { errorPanel, focusHeading, h, heading, show, toast } from '../dom.js';
import { VIEWER_TZ, formatInstant, isoLocalTomorrowAt, itemText, timeZones } from '../format.js';
import { navigate } from '../router.js';
import { limitsOf, loadServer, personaOptions } from '../server.js';
import { windowText } from './coverage.js';

const PREVIEW_DEBOUNCE_MS = 350;
const PREVIEW_COUNT = 5;

export const FREQUENCIES = [
  ['once', 'Once'],
  ['daily', 'Daily'],
  ['weekly', 'Weekly'],
  ['monthly', 'Monthly'],
  ['custom', 'Custom (cron expression)'],
];
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** The timing part of a form's values, as the API wants it: only the fields the frequency uses. */
export function timingBody(v) {
  const body = { frequency: v.frequency };
  if (v.timezone && v.timezone.trim()) body.timezone = v.timezone.trim();
  switch (v.frequency) {
    case 'once':
    case 'daily':
      if (v.scheduled_time) body.scheduled_time = v.scheduled_time;
      break;
    case 'weekly':
      if (v.scheduled_time) body.scheduled_time = v.scheduled_time;
      if (v.day_of_week) body.day_of_week = v.day_of_week;
      break;
    case 'monthly':
      if (v.scheduled_time) body.scheduled_time = v.scheduled_time;
      if (v.day_of_month === 'last') body.day_of_month = 'last';
      else if (v.day_of_month !== undefined && v.day_of_month !== '') body.day_of_month = Number(v.day_of_month);
      break;
    case 'custom':
      body.cron_expression = v.cron_expression || '';
      break;
    default:
      break;
  }
  // The window fields (the "Advanced" disclosure): ISO-8601 durations, sent when filled in.
  for (const k of ['lookback', 'settlement_delay', 'max_catchup']) {
    if (v[k] && v[k].trim()) body[k] = v[k].trim();
  }
  return body;
}

/** The whole create / update body. An edit always sends the description, so that clearing it sticks. */
export function scheduleBody(v, { editing = false } = {}) {
  const body = {
    name: v.name,
    user_query: v.user_query,
    persona: v.persona,
    ...timingBody(v),
  };
  if (editing || (v.description && v.description.trim())) body.description = v.description;
  if (v.notify_on) body.notify_on = v.notify_on;
  // An edit clears a lookback with an empty value (contiguous windows again).
  if (editing && !body.lookback) body.lookback = '';
  return body;
}

function formValuesFromSchedule(s, defaultPersona) {
  let scheduledTime = s.scheduled_time || '';
  if (s.frequency === 'once' && scheduledTime) {
    // datetime-local wants "YYYY-MM-DDTHH:MM"; an "HH:MM" once-schedule is shown as tomorrow at that time.
    scheduledTime = /^\d{2}:\d{2}/.test(scheduledTime) ? isoLocalTomorrowAt(scheduledTime.slice(0, 5)) : scheduledTime.slice(0, 16);
  } else if (scheduledTime) {
    scheduledTime = scheduledTime.slice(0, 5);
  }
  return {
    name: s.name || '',
    description: s.description || '',
    user_query: s.user_query || '',
    persona: s.persona || defaultPersona,
    frequency: s.frequency || 'daily',
    scheduled_time: scheduledTime,
    day_of_week: s.day_of_week || 'monday',
    day_of_month: s.day_of_month === undefined || s.day_of_month === null ? '1' : String(s.day_of_month),
    cron_expression: s.cron_expression || '',
    timezone: s.timezone || VIEWER_TZ,
    notify_on: s.notify_on || 'every_run',
    lookback: s.lookback || '',
    settlement_delay: s.settlement_delay || '',
    max_catchup: s.max_catchup || '',
  };
}

const NEW_SCHEDULE = (persona) => ({
  name: '',
  description: '',
  user_query: '',
  persona,
  frequency: 'daily',
  scheduled_time: '08:00',
  day_of_week: 'monday',
  day_of_month: '1',
  cron_expression: '0 8 * * MON-FRI',
  timezone: VIEWER_TZ,
  notify_on: 'every_run',
  lookback: '',
  settlement_delay: '',
  max_catchup: '',
});

function field(name, label, control, { hint, wide } = {}) {
  const hintId = hint ? `hint-${name}` : null;
  const errId = `error-${name}`;
  control.id = `f-${name}`;
  control.name = name;
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  control.dataset.testid = `input-${name}`;
  return h(
    'div',
    { class: `field${wide ? ' field-wide' : ''}`, 'data-field': name },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId, 'data-testid': `error-${name}` }),
  );
}

export async function viewForm(s, route) {
  const editing = Boolean(route.id);
  show(heading(editing ? 'Edit schedule' : 'Create schedule'), h('div', { class: 'panel skeleton-block', 'aria-hidden': 'true' }));
  focusHeading();
  // The server's facts are fetched once per sign-in, so this waits only on a fresh page load.
  const [server, original] = await Promise.all([
    loadServer(),
    editing ? api('GET', `/api/v1/schedules/${encodeURIComponent(route.id)}`, { signal: s.signal }) : null,
  ]);
  if (!s.alive()) return;
  const limits = limitsOf(server);
  const previewCount = Math.min(PREVIEW_COUNT, limits.preview_count_max);
  const personas = Array.isArray(server && server.personas) ? server.personas : [];
  const defaultPersona = personas[0] || '';
  const initial = editing ? formValuesFromSchedule(original, defaultPersona) : NEW_SCHEDULE(defaultPersona);

  const c = {
    name: h('input', { type: 'text', maxlength: String(limits.name_max), autocomplete: 'off', value: initial.name }),
    description: h('textarea', { rows: '2', maxlength: String(limits.description_max), value: initial.description }),
    user_query: h('textarea', { rows: '4', maxlength: String(limits.query_max), value: initial.user_query }),
    persona: h(
      'select',
      { value: initial.persona },
      personaOptions(personas, initial.persona).map(([v, l]) => h('option', { value: v }, l)),
    ),
    frequency: h('select', { value: initial.frequency }, FREQUENCIES.map(([v, l]) => h('option', { value: v }, l))),
    scheduled_time: h('input', { type: initial.frequency === 'once' ? 'datetime-local' : 'time', value: initial.scheduled_time }),
    day_of_week: h(
      'select',
      { value: initial.day_of_week },
      WEEKDAYS.map((d) => h('option', { value: d }, d.charAt(0).toUpperCase() + d.slice(1))),
    ),
    day_of_month: h(
      'select',
      { value: initial.day_of_month },
      Array.from({ length: 31 }, (_, i) => h('option', { value: String(i + 1) }, String(i + 1))),
      h('option', { value: 'last' }, 'Last day of the month'),
    ),
    cron_expression: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', value: initial.cron_expression }),
    timezone: h('input', { type: 'text', list: 'tz-list', autocomplete: 'off', spellcheck: 'false', value: initial.timezone }),
    lookback: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: 'PT24H', value: initial.lookback }),
    settlement_delay: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: 'PT0S', value: initial.settlement_delay }),
    max_catchup: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: 'P7D', value: initial.max_catchup }),
  };
  const notify = notifyOnField(initial.notify_on);
  c.notify_on = notify.control;
  const zoneList = h('datalist', { id: 'tz-list' }, timeZones().map((z) => h('option', { value: z })));

  const fields = {
    name: field('name', 'Name', c.name),
    description: field('description', 'Description (optional)', c.description, { wide: true }),
    user_query: field('user_query', 'Investigation query', c.user_query, {
      wide: true,
      hint: 'Name the entities, the time window and what counts as suspicious, e.g. “Failed sign-ins for admin@contoso.com in the last 24 hours, more than 5 attempts”.',
    }),
    persona: field('persona', 'Persona', c.persona),
    frequency: field('frequency', 'Frequency', c.frequency),
    scheduled_time: field('scheduled_time', 'Run time', c.scheduled_time),
    day_of_week: field('day_of_week', 'Day of week', c.day_of_week),
    day_of_month: field('day_of_month', 'Day of month', c.day_of_month, {
      hint: 'Months without this day run on their last day.',
    }),
    cron_expression: field('cron_expression', 'Cron expression', c.cron_expression, {
      hint: 'Five fields: minute hour day-of-month month day-of-week, e.g. 0 8 * * MON-FRI.',
    }),
    timezone: field('timezone', 'Time zone', c.timezone, { hint: `IANA name; your browser uses ${VIEWER_TZ}.` }),
    notify_on: notify.wrap,
    lookback: field('lookback', 'Lookback', c.lookback, {
      hint: 'ISO-8601, e.g. PT24H: each run looks back this far. Empty: each run covers the time since the previous one.',
    }),
    settlement_delay: field('settlement_delay', 'Settlement delay', c.settlement_delay, {
      hint: 'How long logs take to arrive, e.g. PT15M: windows end this much before the run. Empty: the server default.',
    }),
    max_catchup: field('max_catchup', 'Max catch-up', c.max_catchup, {
      hint: 'How far back one run reaches after downtime (default P7D); older time becomes a missed gap.',
    }),
  };

  const formError = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'form-error' });
  const validationPanel = h('div', { class: 'validation', 'data-testid': 'validation-panel', 'aria-live': 'polite' });
  const previewPanel = h(
    'section',
    { class: 'panel preview', 'aria-labelledby': 'preview-title', 'data-testid': 'preview-panel', 'aria-live': 'polite' },
    h('h2', { id: 'preview-title' }, `Next ${previewCount} runs`),
    h('p', { class: 'preview-desc', 'data-testid': 'preview-description' }),
    h('ol', { class: 'preview-list', 'data-testid': 'preview-runs' }),
  );

  const values = () => ({
    name: c.name.value,
    description: c.description.value,
    user_query: c.user_query.value,
    persona: c.persona.value,
    frequency: c.frequency.value,
    scheduled_time: c.scheduled_time.value,
    day_of_week: c.day_of_week.value,
    day_of_month: c.day_of_month.value,
    cron_expression: c.cron_expression.value,
    timezone: c.timezone.value,
    notify_on: c.notify_on.value,
    lookback: c.lookback.value,
    settlement_delay: c.settlement_delay.value,
    max_catchup: c.max_catchup.value,
  });

  const setFieldError = (name, msg) => {
    const wrap = fields[name];
    if (!wrap) return false;
    const control = c[name];
    wrap.querySelector('.field-error').textContent = msg || '';
    if (msg) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
    wrap.classList.toggle('has-error', Boolean(msg));
    return !wrap.hidden;
  };
  const timingNames = [
    'frequency',
    'scheduled_time',
    'day_of_week',
    'day_of_month',
    'cron_expression',
    'timezone',
    'lookback',
    'settlement_delay',
    'max_catchup',
  ];

  const syncFrequency = () => {
    const f = c.frequency.value;
    const usesTime = f !== 'custom';
    fields.scheduled_time.hidden = !usesTime;
    fields.day_of_week.hidden = f !== 'weekly';
    fields.day_of_month.hidden = f !== 'monthly';
    fields.cron_expression.hidden = f !== 'custom';
    const wantType = f === 'once' ? 'datetime-local' : 'time';
    if (c.scheduled_time.type !== wantType) {
      const old = c.scheduled_time.value;
      c.scheduled_time.type = wantType;
      if (wantType === 'datetime-local') c.scheduled_time.value = isoLocalTomorrowAt(/^\d{2}:\d{2}$/.test(old) ? old : '02:00');
      else c.scheduled_time.value = old.includes('T') ? old.slice(11, 16) : old || '08:00';
    }
    fields.scheduled_time.querySelector('label').textContent = f === 'once' ? 'Date and time' : 'Run time';
  };

  // Live preview: debounced, and only the newest answer is shown.
  let previewSeq = 0;
  let previewTimer = null;
  const refreshPreview = async () => {
    const seq = ++previewSeq;
    const desc = previewPanel.querySelector('.preview-desc');
    const list = previewPanel.querySelector('ol');
    previewPanel.classList.add('is-loading');
    try {
      const res = await api('POST', `/api/v1/schedules/preview?count=${previewCount}`, { body: timingBody(values()), signal: s.signal });
      if (seq !== previewSeq || !s.alive()) return;
      for (const n of timingNames) setFieldError(n, '');
      // The timing was the last problem: the form-level summary no longer applies.
      if (!form.querySelector('.has-error')) formError.textContent = '';
      const tz = (res && res.timezone) || c.timezone.value || 'UTC';
      desc.textContent = (res && res.schedule_description) || '';
      const runs = Array.isArray(res && res.runs) ? res.runs : [];
      const windows = Array.isArray(res && res.windows) ? res.windows : [];
      list.replaceChildren(
        ...(runs.length
          ? runs.map((r, i) =>
              h(
                'li',
                {},
                h('span', {}, formatInstant(r, tz)),
                tz === VIEWER_TZ ? null : h('span', { class: 'muted small' }, ` · your time ${formatInstant(r, VIEWER_TZ, false)}`),
                windows[i]
                  ? h('div', { class: 'muted small', 'data-testid': 'preview-window' }, `Data: ${windowText({ window_start: windows[i].start, window_end: windows[i].end }, tz)}`)
                  : null,
              ),
            )
          : [h('li', { class: 'muted' }, 'No further runs.')]),
      );
    } catch (e) {
      if (seq !== previewSeq || !s.alive() || isHandled(e)) return;
      if (e.status === 422) {
        for (const n of timingNames) setFieldError(n, e.fieldErrors[n] || '');
        desc.textContent = 'Fix the highlighted timing fields to see when it will run.';
      } else {
        desc.textContent = `Preview unavailable: ${e.message}`;
      }
      list.replaceChildren();
    } finally {
      if (seq === previewSeq) previewPanel.classList.remove('is-loading');
    }
  };
  const schedulePreview = () => {
    if (previewTimer) s.clear(previewTimer);
    previewTimer = s.timeout(refreshPreview, PREVIEW_DEBOUNCE_MS);
  };
  for (const n of timingNames) {
    c[n].addEventListener('input', schedulePreview);
    c[n].addEventListener('change', schedulePreview);
  }
  c.frequency.addEventListener('change', syncFrequency);

  const renderValidation = (v) => {
    const dims = v && typeof v.dimensions === 'object' && v.dimensions ? v.dimensions : {};
    const dimLabels = { entities: 'Entities', time_scope: 'Time scope', conditions: 'Conditions' };
    const list = (items, testid, cls) =>
      Array.isArray(items) && items.length ? h('ul', { class: cls, 'data-testid': testid }, items.map((x) => h('li', {}, itemText(x)))) : null;
    const score = Number.isFinite(v && v.score) ? Math.max(0, Math.min(100, v.score)) : null;
    validationPanel.replaceChildren(
      h(
        'div',
        { class: `panel ${v && v.valid ? 'panel-ok' : 'panel-warning'}` },
        h(
          'div',
          { class: 'validation-head' },
          h('strong', { 'data-testid': 'validation-verdict' }, v && v.valid ? 'Specific enough to schedule' : 'Too vague to give reliable results'),
          score === null
            ? null
            : h(
                'span',
                { class: 'score' },
                h('meter', { min: '0', max: '100', low: '40', high: '70', optimum: '100', value: String(score), 'aria-label': 'Specificity score' }),
                h('span', { 'data-testid': 'validation-score' }, ` ${score}/100`),
              ),
        ),
        h(
          'dl',
          { class: 'dims' },
          Object.entries(dims).map(([key, d]) => {
            const found = d && typeof d === 'object' ? Boolean(d.found) : Boolean(d);
            const items = d && typeof d === 'object' && Array.isArray(d.items) ? d.items : [];
            return [
              h('dt', {}, h('span', { class: found ? 'mark-ok' : 'mark-missing', 'aria-hidden': 'true' }, found ? '✓' : '✗'), ` ${dimLabels[key] || key.replace(/_/g, ' ')}`),
              h(
                'dd',
                { 'data-testid': `dimension-${key}` },
                items.length ? items.map((it) => h('span', { class: 'chip' }, itemText(it))) : h('span', { class: 'muted' }, found ? 'found' : 'not found'),
              ),
            ];
          }),
        ),
        Array.isArray(v && v.missing) && v.missing.length
          ? h('p', { 'data-testid': 'validation-missing' }, 'Missing: ', v.missing.map(itemText).join(', '))
          : null,
        Array.isArray(v && v.suggestions) && v.suggestions.length
          ? h('div', {}, h('h3', {}, 'Suggestions'), list(v.suggestions, 'validation-suggestions', 'suggestions'))
          : null,
        Array.isArray(v && v.warnings) && v.warnings.length
          ? h('div', { class: 'warnings' }, h('h3', {}, 'Coverage'), list(v.warnings, 'validation-warnings', 'warnings-list'))
          : null,
      ),
    );
  };

  const validateButton = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      'data-testid': 'validate',
      onclick: async () => {
        validateButton.disabled = true;
        setFieldError('user_query', '');
        try {
          const v = await api('POST', '/api/v1/schedules/validate', {
            body: { query: c.user_query.value, persona: c.persona.value, frequency: c.frequency.value },
            signal: s.signal,
          });
          if (s.alive()) renderValidation(v);
        } catch (e) {
          if (!s.alive() || isHandled(e)) return;
          if (e.status === 422 && Object.keys(e.fieldErrors).some((k) => k !== '_form')) {
            for (const [k, msg] of Object.entries(e.fieldErrors)) setFieldError(k, msg);
            validationPanel.replaceChildren();
          } else validationPanel.replaceChildren(errorPanel(e));
        } finally {
          validateButton.disabled = false;
        }
      },
    },
    'Validate query',
  );
  fields.user_query.append(h('div', { class: 'field-actions' }, validateButton));

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'submit' }, editing ? 'Save changes' : 'Create schedule');
  const form = h(
    'form',
    {
      class: 'schedule-form',
      novalidate: true,
      'data-testid': 'schedule-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        formError.textContent = '';
        for (const n of Object.keys(fields)) setFieldError(n, '');
        submit.disabled = true;
        try {
          const body = scheduleBody(values(), { editing });
          const saved = editing
            ? await api('PATCH', `/api/v1/schedules/${encodeURIComponent(original.id)}`, { body, signal: s.signal })
            : await api('POST', '/api/v1/schedules', { body, signal: s.signal });
          toast(editing ? `Saved “${saved.name}”.` : `Created “${saved.name}”.`);
          navigate(editing ? `#/schedules/${encodeURIComponent(saved.id)}` : '#/schedules');
        } catch (e) {
          if (!s.alive() || isHandled(e)) return;
          const unplaced = [];
          let first = null;
          for (const [k, msg] of Object.entries(e.fieldErrors || {})) {
            if (setFieldError(k, msg)) first = first || c[k];
            else unplaced.push(k === '_form' ? msg : `${k}: ${msg}`);
          }
          if (e.status !== 422 || unplaced.length || !first) {
            formError.textContent = e.status === 422 ? unplaced.join(' ') || e.message : e.message;
          } else {
            formError.textContent = 'Please fix the highlighted fields.';
          }
          (first || formError).focus?.();
        } finally {
          submit.disabled = false;
        }
      },
    },
    formError,
    h(
      'fieldset',
      { class: 'group' },
      h('legend', {}, 'Investigation'),
      h('div', { class: 'grid' }, fields.name, fields.persona, fields.description, fields.user_query, validationPanel),
    ),
    h(
      'fieldset',
      { class: 'group' },
      h('legend', {}, 'When it runs'),
      h('div', { class: 'grid' }, fields.frequency, fields.timezone, fields.scheduled_time, fields.day_of_week, fields.day_of_month, fields.cron_expression),
      h(
        'details',
        { class: 'advanced', 'data-testid': 'advanced', open: Boolean(initial.lookback || initial.settlement_delay) },
        h('summary', {}, 'Advanced: data window'),
        h('div', { class: 'grid' }, fields.lookback, fields.settlement_delay, fields.max_catchup),
      ),
      zoneList,
      previewPanel,
    ),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Notifications'), fields.notify_on),
    h(
      'div',
      { class: 'actions form-actions' },
      h('a', { class: 'btn', href: editing ? `#/schedules/${encodeURIComponent(original.id)}` : '#/schedules' }, 'Cancel'),
      submit,
    ),
  );
  formError.tabIndex = -1;
  syncFrequency();
  show(heading(editing ? `Edit “${original.name}”` : 'Create schedule'), form);
  focusHeading();
  refreshPreview();
}
