// Browser test of the coverage strip (views/coverage.js) on the real local runner in headless chromium: a failed
// backfill leaves a `failed` gap, the strip shows it (focusable, with its span and reason as text), and "Fill gaps"
// starts a backfill that closes it. Run like ui.test.mjs: `cargo build -p local && node --test tests/ui/`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ROOT, freePort, runnerBinary } from './support.mjs';
import { segmentsOf, windowText } from '../../functions/api/ui/views/coverage.js';
import { scheduleBody, timingBody } from '../../functions/api/ui/views/form.js';

const TOKEN = `ui-cov-${randomBytes(12).toString('hex')}`;
const QUERY = 'failed sign-ins in the last 24 hours with more than 5 attempts from the same IP';
const WAIT = 60_000;
let runner;
let baseUrl;
let tmp;
let context;
let page;

async function api(method, p, body) {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function until(what, check) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'si-ui-cov-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  runner = spawn(runnerBinary(), [], {
    cwd: tmp,
    env: {
      ...process.env,
      LISTEN_ADDR: `127.0.0.1:${port}`,
      DATA_DIR: path.join(tmp, 'data'),
      API_TOKEN: TOKEN,
      DISPATCH_INTERVAL_SECS: '1',
      STATUS_CHECK_INTERVAL_SECS: '1',
      SANDBOX_RUN_SECS: '1',
      SANDBOX_FAIL_MARKER: '[fail]',
      RUST_LOG: 'warn',
    },
    stdio: 'ignore',
  });
  await until('the runner to be healthy', async () => {
    try {
      return (await fetch(`${baseUrl}/healthz`)).status === 200;
    } catch {
      return false;
    }
  });
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium'), {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 860 },
    locale: 'en-US',
  });
  context.setDefaultTimeout(WAIT);
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close().catch(() => {});
  if (runner && runner.exitCode === null) runner.kill('SIGTERM');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('segments are placed by their share of the span, gaps named by reason', () => {
  const segs = segmentsOf({
    from: '2030-01-01T00:00:00Z',
    to: '2030-01-01T10:00:00Z',
    covered: [{ start: '2030-01-01T00:00:00Z', end: '2030-01-01T05:00:00Z' }],
    in_progress: [],
    gaps: [{ start: '2030-01-01T05:00:00Z', end: '2030-01-01T06:00:00Z', reason: 'paused' }],
  });
  assert.deepEqual(segs.map((s) => [s.kind, s.left, s.width, s.label]), [
    ['covered', 0, 0.5, 'Covered'],
    ['gap-paused', 0.5, 0.1, 'Gap: Paused'],
  ]);
});

test('the Advanced window fields are sent when filled in, and an edit can clear the lookback', () => {
  const v = { frequency: 'daily', scheduled_time: '08:00', timezone: 'UTC', lookback: ' PT24H ', settlement_delay: '', max_catchup: 'P3D' };
  assert.deepEqual(timingBody(v), { frequency: 'daily', scheduled_time: '08:00', timezone: 'UTC', lookback: 'PT24H', max_catchup: 'P3D' });
  const edit = scheduleBody({ ...v, lookback: '', name: 'n', user_query: 'q', persona: 'ciso', description: '' }, { editing: true });
  assert.equal(edit.lookback, '');
  assert.equal('settlement_delay' in edit, false, 'an empty settlement delay keeps the stored one');
  assert.equal(windowText({}, 'UTC'), '—');
});

test('the coverage strip shows a failed gap and Fill gaps closes it', async () => {
  const created = await api('POST', '/api/v1/schedules', {
    name: 'Hourly sign-ins',
    user_query: `${QUERY} [fail]`,
    persona: 'soc_analyst',
    frequency: 'custom',
    cron_expression: '0 * * * *',
    timezone: 'UTC',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  // The ledger shows the schedule's life only (from its creation): let a few seconds of it pass, so the window
  // below, which ends at a whole second, ends inside it.
  const createdAt = Date.parse(created.body.created_at);
  await until('two seconds of schedule life', async () => Date.now() - createdAt > 2000);
  // A backfill of the last ten minutes fails (the sandbox fails queries with the marker): a `failed` gap.
  const end = new Date(Math.floor(Date.now() / 1000) * 1000);
  const start = new Date(end.getTime() - 10 * 60_000);
  const bf = await api('POST', `/api/v1/schedules/${id}/backfill`, { start: start.toISOString(), end: end.toISOString() });
  assert.equal(bf.status, 202, JSON.stringify(bf.body));
  assert.equal(bf.body.trigger, 'backfill');
  await until('the failed gap', async () => {
    const c = await api('GET', `/api/v1/schedules/${id}/coverage`);
    return c.body.gaps.some((g) => g.reason === 'failed');
  });
  // The cause is fixed: the query no longer fails.
  assert.equal((await api('PATCH', `/api/v1/schedules/${id}`, { user_query: QUERY })).status, 200);

  await page.goto(`${baseUrl}/`);
  await page.getByTestId('token-input').fill(TOKEN);
  await page.getByTestId('token-submit').click();
  await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
  await page.goto(`${baseUrl}/#/schedules/${id}`);
  const gap = page.locator('[data-testid="coverage-segment"][data-kind="gap-failed"]');
  await gap.waitFor();
  // Keyboard-focusable, and its span and reason are text.
  await gap.focus();
  assert.equal(await gap.evaluate((el) => el === document.activeElement), true);
  assert.match(await gap.textContent(), /^Gap: Failed run: /);
  assert.match(await page.getByTestId('coverage-status').textContent(), /1 gap not covered/);
  // The run row shows its window.
  assert.match(await page.getByTestId('run-window').first().textContent(), / – /);

  await page.getByTestId('fill-gaps').click();
  await page.locator('[data-testid="coverage-segment"][data-kind="covered"]').waitFor();
  await until('the gap to close in the strip', async () => (await gap.count()) === 0);
  assert.match(await page.getByTestId('coverage-status').textContent(), /No gaps/);
  assert.match(await page.getByTestId('coverage-ratio').textContent(), /% covered/);
  assert.equal(await page.getByTestId('fill-gaps').isDisabled(), true);
  const c = await api('GET', `/api/v1/schedules/${id}/coverage`);
  assert.deepEqual(c.body.gaps, []);
});
