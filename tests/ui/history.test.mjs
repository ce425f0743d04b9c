// Browser test of a schedule's History section: pause a schedule with a reason from its page, then see the event
// (who, what, why) in its History and the reason next to PAUSED in the list. Headless Debian chromium driven by
// playwright-core against the real local runner on a free loopback port with a fresh data directory. Run from the
// repository root after building the runner (LOCAL_BIN or CARGO_TARGET_DIR finds it):
//
//   cargo build -p local && (cd tests/ui && npm ci) && node --test tests/ui/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ROOT, freePort, runnerBinary } from './support.mjs';

const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts', 'ui');
const TOKEN = `ui-history-${randomBytes(12).toString('hex')}`;
const WAIT = 30_000;
const SPECIFIC_QUERY = 'failed sign-ins in the last 24 hours with more than 5 attempts from the same IP';
const REASON = 'Change freeze until the SIEM migration ends';

let runner;
let runnerExit;
let baseUrl;
let tmp;
let context;
let page;
const pageErrors = [];

/** Polls /readyz until the runner and its store answer; fails fast if the runner exits. Bounded: 60 s. */
async function waitForReady() {
  const deadline = Date.now() + 60_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (runner.exitCode !== null) throw new Error(`local runner exited with ${runner.exitCode}; see ${ARTIFACTS}/history-runner.log`);
    try {
      const res = await fetch(`${baseUrl}/readyz`);
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`local runner not ready after 60 s (${last})`);
}

async function api(method, p, body) {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'si-ui-history-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const log = createWriteStream(path.join(ARTIFACTS, 'history-runner.log'));
  runner = spawn(runnerBinary(), [], {
    cwd: tmp,
    env: {
      ...process.env,
      LISTEN_ADDR: `127.0.0.1:${port}`,
      DATA_DIR: path.join(tmp, 'data'),
      API_TOKEN: TOKEN,
      RUST_LOG: process.env.RUST_LOG || 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runner.stdout.pipe(log);
  runner.stderr.pipe(log);
  runnerExit = new Promise((resolve) => runner.once('exit', resolve));
  await waitForReady();
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium'), {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 860 },
    locale: 'en-US',
  });
  context.setDefaultTimeout(WAIT);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (runner && runner.exitCode === null) {
    runner.kill('SIGTERM');
    const stopped = await Promise.race([runnerExit, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
    if (stopped === 'timeout') runner.kill('SIGKILL');
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('pausing with a reason shows in the History section and next to PAUSED in the list', async () => {
  // Given a schedule created through the API.
  const created = await api('POST', '/api/v1/schedules', {
    name: 'Weekly lateral movement hunt',
    user_query: SPECIFIC_QUERY,
    persona: 'soc_analyst',
    frequency: 'weekly',
    scheduled_time: '08:00',
    day_of_week: 'monday',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;

  // When the admin signs in, opens its page and pauses it with a reason.
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('token-input').fill(TOKEN);
  await page.getByTestId('token-input').press('Enter');
  await page.getByTestId('schedule-row').first().waitFor();
  await page.goto(`${baseUrl}/#/schedules/${encodeURIComponent(id)}`);
  const history = page.getByTestId('history');
  await history.locator('[data-testid="history-event"][data-action="created"]').waitFor();
  await page.getByTestId('pause-reason-input').fill(REASON);
  await page.getByTestId('pause-with-reason').click();

  // Then the History lists the pause first, by the admin, with the reason, above the creation.
  const paused = history.locator('[data-testid="history-event"][data-action="paused"]');
  await paused.waitFor();
  assert.equal((await paused.getByTestId('history-reason').textContent()).trim(), REASON);
  assert.equal((await paused.getByTestId('history-actor').textContent()).trim(), 'admin');
  const actions = await history.getByTestId('history-event').evaluateAll((els) => els.map((e) => e.dataset.action));
  assert.deepEqual(actions, ['paused', 'created']);
  // The form to pause is gone (the schedule is no longer active) and the status says PAUSED with the reason.
  assert.equal(await page.getByTestId('pause-with-reason').count(), 0);
  assert.equal((await page.getByTestId('detail-status').getByTestId('pause-reason').textContent()).trim(), REASON);
  await page.screenshot({ path: path.join(ARTIFACTS, 'history.png'), fullPage: true });

  // And the list shows the reason next to PAUSED.
  await page.goto(`${baseUrl}/#/schedules`);
  const row = page.locator(`[data-testid="schedule-row"][data-id="${id}"]`);
  await row.getByTestId('pause-reason').waitFor();
  assert.match(await row.getByTestId('status').textContent(), /PAUSED/i);
  assert.equal((await row.getByTestId('pause-reason').textContent()).trim(), REASON);

  // The API agrees with what the page showed.
  const trail = await api('GET', `/api/v1/schedules/${id}/history`);
  assert.equal(trail.status, 200);
  assert.deepEqual(
    trail.body.items.map((e) => [e.action, e.actor, e.reason ?? null]),
    [
      ['paused', 'admin', REASON],
      ['created', 'admin', null],
    ],
  );
  assert.deepEqual(pageErrors, []);
});
