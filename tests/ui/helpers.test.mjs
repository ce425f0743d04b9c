// The UI's pure helpers, checked in node without a browser: how API errors become field messages, which timing
// fields each frequency sends, how routes and durations are read and shown, and what the form takes from
// `GET /api/v1/me` (personas, limits).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detailMessage, fieldErrorsOf } from '../../functions/api/ui/api.js';
import { formatDuration } from '../../functions/api/ui/format.js';
import { parseRoute } from '../../functions/api/ui/router.js';
import { limitsOf, personaOptions } from '../../functions/api/ui/server.js';
import { scheduleBody, timingBody } from '../../functions/api/ui/views/form.js';

test('422 field errors land on the form field they name', () => {
  const body = {
    detail: [
      { loc: ['body', 'cron_expression'], msg: 'minute field: 61 is out of range', type: 'invalid' },
      { loc: ['body', 'query'], msg: 'too vague', type: 'not_specific' },
      { loc: ['query', 'count'], msg: 'count must be 1-100', type: 'invalid' },
      'garbage',
    ],
  };
  assert.deepEqual(fieldErrorsOf(body), {
    cron_expression: 'minute field: 61 is out of range',
    user_query: 'too vague',
    _form: 'count must be 1-100',
  });
  assert.deepEqual(fieldErrorsOf({ detail: 'not a list' }), {});
  assert.equal(detailMessage(409, { detail: 'schedule is already paused' }), 'schedule is already paused');
  assert.equal(detailMessage(422, body).split('; ')[0], 'cron_expression: minute field: 61 is out of range');
  assert.equal(detailMessage(500, null), 'The server answered 500.');
});

test('each frequency sends only the timing fields it uses', () => {
  const all = {
    scheduled_time: '08:00',
    day_of_week: 'friday',
    day_of_month: 'last',
    cron_expression: '0 8 * * MON-FRI',
    timezone: ' Europe/Berlin ',
  };
  assert.deepEqual(timingBody({ ...all, frequency: 'daily' }), { frequency: 'daily', scheduled_time: '08:00', timezone: 'Europe/Berlin' });
  assert.deepEqual(timingBody({ ...all, frequency: 'weekly' }), {
    frequency: 'weekly',
    scheduled_time: '08:00',
    day_of_week: 'friday',
    timezone: 'Europe/Berlin',
  });
  assert.deepEqual(timingBody({ ...all, frequency: 'monthly', day_of_month: '31' }).day_of_month, 31);
  assert.deepEqual(timingBody({ ...all, frequency: 'monthly' }).day_of_month, 'last');
  assert.deepEqual(timingBody({ ...all, frequency: 'custom' }), {
    frequency: 'custom',
    cron_expression: '0 8 * * MON-FRI',
    timezone: 'Europe/Berlin',
  });
  assert.deepEqual(timingBody({ ...all, frequency: 'once', scheduled_time: '2026-11-25T02:00' }).scheduled_time, '2026-11-25T02:00');
  const body = scheduleBody({ ...all, frequency: 'daily', name: 'n', user_query: 'q', persona: 'ciso', description: '  ' });
  assert.equal('description' in body, false, 'a blank description is left out of a create');
  const edit = scheduleBody({ ...all, frequency: 'daily', name: 'n', user_query: 'q', persona: 'ciso', description: '' }, { editing: true });
  assert.equal(edit.description, '', 'an edit clears the description');
});

test('hash routes', () => {
  assert.equal(parseRoute('').view, 'list');
  assert.equal(parseRoute('#/schedules?offset=20').params.get('offset'), '20');
  assert.deepEqual({ ...parseRoute('#/schedules/new'), params: undefined }, { view: 'form', params: undefined });
  assert.equal(parseRoute('#/schedules/sch_1').id, 'sch_1');
  assert.equal(parseRoute('#/schedules/sch_1/edit').view, 'form');
  assert.equal(parseRoute('#/schedules/sch_1/edit').id, 'sch_1');
  assert.equal(parseRoute('#/notifications').view, 'notifications');
  assert.equal(parseRoute('#/nope').view, 'not-found');
});

test('durations read naturally', () => {
  assert.equal(formatDuration(999), '999 ms');
  assert.equal(formatDuration(1500), '1.5 s');
  assert.equal(formatDuration(125_000), '2 min 5 s');
  assert.equal(formatDuration(3_720_000), '1 h 2 min');
  assert.equal(formatDuration(null), '—');
});

test('the persona choice and the limits come from the server', () => {
  assert.deepEqual(personaOptions(['soc_analyst', 'ciso', 'threat_hunter'], 'soc_analyst'), [
    ['soc_analyst', 'SOC analyst'],
    ['ciso', 'CISO'],
    ['threat_hunter', 'threat_hunter'],
  ]);
  // A schedule whose persona the server no longer lists keeps it as a choice instead of silently losing it.
  assert.deepEqual(personaOptions(['ciso'], 'retired_persona'), [
    ['ciso', 'CISO'],
    ['retired_persona', 'retired_persona'],
  ]);
  assert.deepEqual(personaOptions(undefined, ''), []);
  const limits = { name_max: 50, description_max: 500, query_max: 1000, list_limit_max: 10, preview_count_max: 3 };
  assert.deepEqual(limitsOf({ user: 'alice', limits }), limits);
  // A missing or nonsensical limit falls back to the server's documented default, one limit at a time.
  assert.deepEqual(limitsOf({ limits: { name_max: -1, query_max: '9' } }), {
    name_max: 200,
    description_max: 2000,
    query_max: 4000,
    list_limit_max: 100,
    preview_count_max: 100,
  });
});
