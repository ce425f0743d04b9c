// Browser tests of the web UI: Debian's headless chromium, driven by playwright-core, against the real local runner
// (API + UI + dispatcher + status checker + sandbox engine in one process), started here on a free loopback port
// with a fresh data directory. Run from the repository root after building the runner:
//
//   cargo build --release -p local && (cd tests/ui && npm ci) && node --test tests/ui/
//
// LOCAL_BIN overrides the runner binary, CHROMIUM_PATH the browser. Screenshots of every page go to
// tests/artifacts/ui/; with UPDATE_DOCS=1 the Schedules page also goes to tests/ui/screenshots/schedules.png (the README's picture),
// so an ordinary run never changes a tracked file.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ROOT, freePort, runnerBinary, waitForHealth } from './support.mjs';

const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts', 'ui');
const TOKEN = `ui-test-${randomBytes(12).toString('hex')}`;
// The browser's zone differs from the schedule's so that both renderings of "next run" are exercised.
const VIEWER_TZ = 'America/New_York';
const SCHEDULE_TZ = 'Europe/Berlin';
const WAIT = 30_000;
// How long a manual run may take to finish: the sandbox finishes after SANDBOX_RUN_SECS and the status checker
// (every second here) records it at its next tick; generous, because a deadline only matters when something is broken.
const RUN_WAIT = 90_000;
// The sandbox engine fails every session whose query contains this text (SANDBOX_FAIL_MARKER below).
const FAIL_MARKER = '[fail]';
// Where the runner says sessions open in the engine's UI (SESSION_URL_TEMPLATE below); nothing is served there.
const SESSION_URL = 'https://socmate.example.test/sessions/';
// A query the specificity validator accepts, for schedules seeded through the API.
const SPECIFIC_QUERY = 'failed sign-ins in the last 24 hours with more than 5 attempts from the same IP';
// The runner accepts one persona more than the product's default two; the UI must offer it without knowing it.
const PERSONAS = ['soc_analyst', 'ciso', 'threat_hunter'];
// Every ES module of the UI, as the page requests it (`/ui/app.js`, `/ui/views/form.js`, ...), read from the sources.
const UI_DIR = path.join(ROOT, 'functions', 'api', 'ui');
const MODULES = (await readdir(UI_DIR, { recursive: true }))
  .filter((f) => f.endsWith('.js'))
  .map((f) => `/ui/${f.split(path.sep).join('/')}`)
  .sort();

let runner;
let runnerExit;
let baseUrl;
let tmp;
let context;
let page;
const pageErrors = [];
// The UI modules the page loaded: path → "status content-type" of the last answer.
const loadedModules = new Map();

async function api(method, p, body) {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Polls GET `p` until `done(body)` holds; fails after `timeout` with what it waited for and the last answer. */
async function waitForApi(p, what, done, timeout = RUN_WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const res = await api('GET', p);
    if (res.status === 200 && done(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function shot(name) {
  // Toasts from earlier steps would cover the page in the picture.
  await page.evaluate(() => {
    document.getElementById('toasts')?.replaceChildren();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const byTestId = (id) => page.getByTestId(id);
const rowOf = (name) => page.locator(`[data-testid="schedule-row"][data-name="${name}"]`);

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'si-ui-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const log = createWriteStream(path.join(ARTIFACTS, 'runner.log'));
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
      SANDBOX_FAIL_MARKER: FAIL_MARKER,
      SESSION_URL_TEMPLATE: `${SESSION_URL}{session_id}`,
      PERSONAS: PERSONAS.join(','),
      RUST_LOG: process.env.RUST_LOG || 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runner.stdout.pipe(log);
  runner.stderr.pipe(log);
  runnerExit = new Promise((resolve) => runner.once('exit', resolve));
  await waitForHealth(runner, baseUrl, `${ARTIFACTS}/runner.log`);

  // A persistent context gives the browser our own temporary profile directory (Playwright refuses a
  // --user-data-dir argument).
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium'), {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 860 },
    timezoneId: VIEWER_TZ,
    locale: 'en-US',
  });
  context.setDefaultTimeout(WAIT);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    const { pathname } = new URL(r.url());
    if (pathname.startsWith('/ui/') && pathname.endsWith('.js')) loadedModules.set(pathname, `${r.status()} ${r.headers()['content-type']}`);
  });
  page.on('console', (m) => {
    // The browser logs every 4xx answer; the test provokes 401 (bad token) and 422 (bad cron) on purpose. Anything
    // else logged as an error (CSP violations, script errors, other statuses) fails the last step.
    const expected = /^Failed to load resource: the server responded with a status of (401|422) /;
    if (m.type() === 'error' && !expected.test(m.text())) pageErrors.push(`console: ${m.text()}`);
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

test('the UI is served with a strict content security policy', async () => {
  const res = await fetch(`${baseUrl}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.match(res.headers.get('content-security-policy'), /^default-src 'self'/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.ok(MODULES.length > 1 && MODULES.includes('/ui/app.js'), `${MODULES}`);
  for (const module of MODULES) {
    // A module script is refused by the browser unless its type is JavaScript; nosniff forbids guessing.
    const js = await fetch(`${baseUrl}${module}`);
    assert.equal(js.status, 200, module);
    assert.match(js.headers.get('content-type'), /^text\/javascript/, module);
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff', module);
    assert.equal(js.headers.get('cache-control'), 'no-cache', module);
    assert.match(js.headers.get('content-security-policy'), /^default-src 'self'/, module);
  }
});

test('an analyst schedules an investigation end to end in the browser', async (t) => {
  const name = `Daily sign-in review ${randomBytes(3).toString('hex')}`;

  await t.test('token prompt: a wrong token is refused with a clear message, the right one is kept', async () => {
    await page.goto(`${baseUrl}/`);
    await byTestId('token-input').waitFor();
    await shot('token');
    await byTestId('token-input').fill('not-the-token-at-all');
    await byTestId('token-input').press('Enter');
    await page.getByTestId('token-error').filter({ hasText: '401' }).waitFor();
    await byTestId('token-input').fill(TOKEN);
    await byTestId('token-submit').click();
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 1);
  });

  // A few more schedules make the list (and its screenshot) realistic.
  for (const extra of [
    { name: 'Weekly lateral movement hunt', frequency: 'weekly', day_of_week: 'monday', scheduled_time: '06:30', timezone: 'UTC' },
    { name: 'Monthly audit log completeness', frequency: 'monthly', day_of_month: 'last', scheduled_time: '23:00', timezone: 'Asia/Tokyo' },
  ]) {
    const res = await api('POST', '/api/v1/schedules', {
      user_query: 'Hosts with more than 3 RDP logons from different accounts in the last 7 days in SecurityEvent',
      persona: 'soc_analyst',
      ...extra,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }

  await t.test('create through the form: validation round trip and a field error fixed', async () => {
    await byTestId('create-schedule').click();
    await page.getByRole('heading', { level: 1, name: 'Create schedule' }).waitFor();
    // The time zone defaults to the browser's.
    assert.equal(await byTestId('input-timezone').inputValue(), VIEWER_TZ);

    await byTestId('input-name').fill(name);
    await byTestId('input-user_query').fill('check for anything suspicious');
    await byTestId('validate').click();
    const suggestions = byTestId('validation-suggestions');
    await suggestions.waitFor();
    assert.ok((await suggestions.locator('li').count()) >= 1, 'a vague query gets suggestions');
    assert.match(await byTestId('validation-verdict').textContent(), /vague/i);

    await byTestId('input-user_query').fill(
      'Failed sign-ins for admin@contoso.com from 203.0.113.7 in SigninLogs in the last 24 hours with more than 5 attempts',
    );
    await byTestId('validate').click();
    await byTestId('validation-verdict').filter({ hasText: /specific enough/i }).waitFor();
    assert.match(await byTestId('dimension-entities').textContent(), /admin@contoso\.com/);

    // A bad cron expression: the live preview flags it next to the field, and so does submitting.
    await byTestId('input-frequency').selectOption('custom');
    await byTestId('input-timezone').fill(SCHEDULE_TZ);
    await byTestId('input-cron_expression').fill('every morning at eight');
    await byTestId('error-cron_expression').filter({ hasText: /\S/ }).waitFor();
    await byTestId('submit').click();
    await byTestId('error-cron_expression').filter({ hasText: /\S/ }).waitFor();
    assert.equal(await byTestId('input-cron_expression').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-cron_expression', 'focus moves to the bad field');
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Create schedule' }).count(), 1, 'still on the form');

    await byTestId('input-cron_expression').fill('0 8 * * *');
    await byTestId('preview-runs').locator('li').nth(4).waitFor();
    assert.equal(await byTestId('error-cron_expression').textContent(), '');
    assert.match(await byTestId('preview-runs').textContent(), /08:00/);
    await shot('form');
    await byTestId('submit').click();
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
  });

  await t.test('the list shows it with its next run in both time zones', async () => {
    const row = rowOf(name);
    await row.waitFor();
    const listed = (await api('GET', '/api/v1/schedules?limit=100')).body.items.find((s) => s.name === name);
    assert.ok(listed?.next_run_at, 'the API gives a next run');
    assert.equal((await row.getByTestId('frequency').textContent()).trim(), listed.schedule_description);
    const inZone = await row.getByTestId('next-run-schedule-tz').textContent();
    assert.match(inZone, /08:00/);
    assert.match(inZone, new RegExp(SCHEDULE_TZ));
    const viewerHhmm = new Intl.DateTimeFormat('en-US', { timeZone: VIEWER_TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
      new Date(listed.next_run_at),
    );
    const inViewer = await row.getByTestId('next-run-viewer-tz').textContent();
    assert.ok(inViewer.includes(viewerHhmm) && inViewer.includes(VIEWER_TZ), `${inViewer} should show ${viewerHhmm} ${VIEWER_TZ}`);
    assert.equal((await row.getByTestId('status').textContent()).trim(), 'ACTIVE');
    await page.locator('[data-testid="schedule-row"]').nth(2).waitFor();
    await shot('schedules');
    if (process.env.UPDATE_DOCS === '1') {
      const docs = path.join(ROOT, 'tests', 'ui', 'screenshots');
      await mkdir(docs, { recursive: true });
      await copyFile(path.join(ARTIFACTS, 'schedules.png'), path.join(docs, 'schedules.png'));
    }
  });

  await t.test('run now from the detail view; the view refreshes itself until the run completes', async () => {
    await rowOf(name).getByTestId('schedule-link').click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await byTestId('definition').filter({ hasText: 'admin@contoso.com' }).waitFor();
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
    await byTestId('action-run').click();
    const first = byTestId('run-row').first();
    await first.waitFor();
    await first.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: RUN_WAIT });
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page updated in place');
    assert.equal((await first.getByTestId('run-trigger').textContent()).trim(), 'manual');
    const session = first.getByTestId('session-id');
    const sessionId = (await session.textContent()).trim();
    assert.match(sessionId, /\S{6,}/);
    // The session links to the engine's UI, opening in a new tab.
    assert.equal(await session.getAttribute('href'), SESSION_URL + encodeURIComponent(sessionId));
    assert.equal(await session.getAttribute('target'), '_blank');
    // The result is clamped in the table; opening it shows the whole text the engine returned.
    const result = first.getByTestId('result-text');
    const fullText = result.locator('.full');
    assert.equal(await fullText.isVisible(), false, 'the full result starts folded');
    await result.locator('summary').click();
    await fullText.waitFor();
    const shownResult = await fullText.textContent();
    assert.match(shownResult, /^\[sandbox\] Investigated: Failed sign-ins for admin@contoso\.com .*findings\.$/);
    const scheduleId = new URL(page.url()).hash.split('/')[2]; // #/schedules/{id}
    const apiRuns = (await api('GET', `/api/v1/schedules/${scheduleId}/runs`)).body;
    assert.equal(shownResult, apiRuns.items[0].summary, 'the whole summary, as the API has it');
    await result.locator('summary').click();
    await fullText.waitFor({ state: 'hidden' });
    assert.notEqual((await first.getByTestId('run-duration').textContent()).trim(), '—');
    // Once nothing is in flight the view stops refreshing and says so by clearing its note.
    await page.waitForFunction(() => document.querySelector('[data-testid="refresh-note"]')?.textContent === '');
    await shot('detail');

    // The edit form opens with the saved definition; cancelling leaves it untouched.
    await byTestId('action-edit').click();
    await page.getByRole('heading', { level: 1, name: `Edit “${name}”` }).waitFor();
    assert.equal(await byTestId('input-name').inputValue(), name);
    assert.equal(await byTestId('input-frequency').inputValue(), 'custom');
    assert.equal(await byTestId('input-cron_expression').inputValue(), '0 8 * * *');
    assert.equal(await byTestId('input-timezone').inputValue(), SCHEDULE_TZ);
    await byTestId('preview-runs').locator('li').nth(4).waitFor();
    await shot('edit');
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
  });

  await t.test('pause and resume from the list', async () => {
    await byTestId('nav-schedules').click();
    const row = rowOf(name);
    await row.getByTestId('action-pause').click();
    await row.getByTestId('status').filter({ hasText: 'PAUSED' }).waitFor();
    assert.equal((await row.getByTestId('next-run').textContent()).trim(), 'Paused');
    await row.getByTestId('action-resume').click();
    await row.getByTestId('status').filter({ hasText: 'ACTIVE' }).waitFor();
    await row.getByTestId('next-run-schedule-tz').waitFor();
    assert.equal((await api('GET', `/api/v1/schedules/${await row.getAttribute('data-id')}`)).body.status, 'ACTIVE');
  });

  await t.test('delete asks for confirmation first', async () => {
    const row = rowOf(name);
    const id = await row.getAttribute('data-id');
    await row.getByTestId('action-delete').click();
    await byTestId('confirm-dialog').waitFor();
    await byTestId('confirm-cancel').click();
    assert.equal(await rowOf(name).count(), 1, 'cancel keeps it');
    await row.getByTestId('action-delete').click();
    await byTestId('confirm-ok').click();
    await rowOf(name).waitFor({ state: 'detached' });
    assert.equal((await api('GET', `/api/v1/schedules/${id}`)).status, 404);
  });

  await t.test('notifications list the completed investigation', async () => {
    await byTestId('nav-notifications').click();
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    const note = page.locator('[data-testid="notification"][data-event="investigation-completed"]').filter({ hasText: name });
    await note.first().waitFor();
    const link = note.first().getByTestId('session-id');
    assert.ok((await link.getAttribute('href')).startsWith(SESSION_URL), 'the notification links its session');
    await shot('notifications');
  });

  await t.test('on a phone the list fits the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await byTestId('nav-schedules').click();
    await page.locator('[data-testid="schedule-row"]').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
    await shot('schedules-phone');
    await page.setViewportSize({ width: 1366, height: 860 });
  });

  await t.test('a rejected token brings back the prompt with a clear message', async () => {
    await page.evaluate(() => sessionStorage.setItem('scheduled-investigations.token', 'revoked-token-0000'));
    await page.reload();
    await byTestId('token-message').filter({ hasText: '401' }).waitFor();
    assert.equal(await byTestId('token-input').isVisible(), true);
  });

  await t.test('no script errors or CSP violations in the console, and every module loaded', () => {
    assert.deepEqual(pageErrors, []);
    // Every module the sources hold was imported by the page and served as JavaScript; so the console check above
    // covers all of them, and none is dead.
    assert.deepEqual([...loadedModules.keys()].sort(), MODULES);
    for (const [module, answer] of loadedModules) assert.match(answer, /^200 text\/javascript/, module);
  });
});

test('the list pages, filters by status and re-enables a schedule that failed five times', async (t) => {
  const tag = randomBytes(3).toString('hex');
  const errorsBefore = pageErrors.length;
  const pager = byTestId('schedules-pager');
  // Anchored at both ends: "21–20 of 20" contains "1–20 of 20", and "1–20 of 25" starts with "1–20 of 2".
  const showsRange = (range) => pager.filter({ hasText: new RegExp(`^${range}(?!\\d)`) }).waitFor();
  const visible = async (testid) => (await page.getByTestId('schedule-rows').getByTestId(testid).allTextContents()).map((x) => x.trim());
  const create = async (name, userQuery = SPECIFIC_QUERY) => {
    const res = await api('POST', '/api/v1/schedules', {
      name,
      user_query: userQuery,
      persona: 'soc_analyst',
      frequency: 'daily',
      scheduled_time: '08:00',
      timezone: SCHEDULE_TZ,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };

  // More than one page (the UI asks for 20 at a time), created one after another so that the newest comes first.
  const seeded = [];
  for (let i = 1; i <= 23; i += 1) seeded.push(await create(`Paging ${tag} ${String(i).padStart(2, '0')}`));
  const all = (await api('GET', '/api/v1/schedules?limit=100')).body;
  const total = all.total;
  assert.ok(total > 20 && total <= 40, `${total} schedules should make exactly two pages`);
  const firstPage = all.items.slice(0, 20).map((s) => s.name);
  const secondPage = all.items.slice(20).map((s) => s.name);

  await t.test('pagination: Next shows the rest, Previous comes back', async () => {
    await page.goto(`${baseUrl}/#/schedules`);
    // The earlier test ends with a revoked token, and a fresh browser has none: either way the prompt asks.
    await byTestId('token-input').fill(TOKEN);
    await byTestId('token-submit').click();
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();

    await showsRange(`1–20 of ${total}`);
    assert.deepEqual(await visible('schedule-link'), firstPage);
    assert.equal(await pager.getByRole('link', { name: 'Previous' }).count(), 0, 'no previous page on the first');

    await pager.getByRole('link', { name: 'Next' }).click();
    await showsRange(`21–${total} of ${total}`);
    const shown = await visible('schedule-link');
    assert.deepEqual(shown, secondPage);
    assert.equal(await pager.getByRole('link', { name: 'Next' }).count(), 0, 'no next page on the last');
    const everySeeded = seeded.map((s) => s.name);
    const onEitherPage = [...firstPage, ...shown];
    assert.deepEqual(
      everySeeded.filter((n) => onEitherPage.filter((m) => m === n).length !== 1),
      [],
      'each seeded schedule is on exactly one of the two pages',
    );
    await shot('schedules-page-2');

    await pager.getByRole('link', { name: 'Previous' }).click();
    await showsRange(`1–20 of ${total}`);
    assert.deepEqual(await visible('schedule-link'), firstPage);
  });

  await t.test('the status filter shows only paused schedules, then all again', async () => {
    // The newest seeded schedule is on the first page; pause it behind the list's back.
    const paused = seeded.at(-1);
    const stillActive = seeded.at(-2);
    assert.equal((await api('POST', `/api/v1/schedules/${paused.id}/pause`)).status, 200);
    const pausedTotal = (await api('GET', '/api/v1/schedules?status=PAUSED&limit=1')).body.total;

    await byTestId('status-filter').selectOption('PAUSED');
    await showsRange(`1–${pausedTotal} of ${pausedTotal}`);
    await rowOf(paused.name).waitFor();
    const statuses = await visible('status');
    assert.ok(statuses.length >= 1 && statuses.every((s) => s === 'PAUSED'), `only paused schedules, got ${statuses}`);
    assert.equal(await rowOf(stillActive.name).count(), 0, 'an active schedule is filtered out');
    assert.equal(await byTestId('status-filter').inputValue(), 'PAUSED', 'the filter keeps its choice');

    await byTestId('status-filter').selectOption('');
    await showsRange(`1–20 of ${total}`);
    assert.equal((await rowOf(stillActive.name).getByTestId('status').textContent()).trim(), 'ACTIVE');
    assert.equal((await rowOf(paused.name).getByTestId('status').textContent()).trim(), 'PAUSED');
  });

  await t.test('five failed runs disable a schedule; Re-enable in the list brings it back', async () => {
    const flaky = await create(`Flaky ${tag}`, `${SPECIFIC_QUERY} ${FAIL_MARKER}`);
    for (let i = 1; i <= 5; i += 1) {
      const run = await api('POST', `/api/v1/schedules/${flaky.id}/run`);
      assert.equal(run.status, 202, JSON.stringify(run.body));
      await waitForApi(`/api/v1/schedules/${flaky.id}`, `failure ${i} to be counted`, (s) => s.consecutive_failures === i);
    }
    assert.equal((await api('GET', `/api/v1/schedules/${flaky.id}`)).body.status, 'FAILED');

    // The FAILED filter lists it; "All statuses" shows it among the rest with the same badge and action.
    await byTestId('status-filter').selectOption('FAILED');
    await rowOf(flaky.name).getByTestId('status').filter({ hasText: 'FAILED' }).waitFor();
    const statuses = await visible('status');
    assert.ok(statuses.every((s) => s === 'FAILED'), `only failed schedules, got ${statuses}`);
    await byTestId('status-filter').selectOption('');
    await showsRange(`1–20 of ${total + 1}`);

    const row = rowOf(flaky.name);
    assert.equal((await row.getByTestId('status').textContent()).trim(), 'FAILED');
    assert.equal((await row.getByTestId('next-run').textContent()).trim(), 'Disabled');
    assert.equal((await row.getByTestId('last-run').locator('.badge').textContent()).trim(), 'failed');
    assert.equal((await row.getByTestId('action-resume').textContent()).trim(), 'Re-enable');
    assert.equal(await row.getByTestId('action-pause').count(), 0, 'a failed schedule cannot be paused');
    await shot('schedule-failed');

    await row.getByRole('button', { name: `Re-enable: ${flaky.name}` }).click();
    await row.getByTestId('status').filter({ hasText: 'ACTIVE' }).waitFor();
    await row.getByTestId('next-run-schedule-tz').waitFor();
    assert.equal(await row.getByTestId('action-pause').count(), 1);
    assert.equal(await row.getByTestId('action-resume').count(), 0);
    await byTestId('toast-info').filter({ hasText: `Re-enabled “${flaky.name}”.` }).waitFor();
    const reenabled = (await api('GET', `/api/v1/schedules/${flaky.id}`)).body;
    assert.equal(reenabled.status, 'ACTIVE');
    assert.equal(reenabled.consecutive_failures, 0);
  });

  await t.test('deleting the only row of the last page goes back to the page before', async () => {
    const items = (await api('GET', '/api/v1/schedules?limit=100')).body.items;
    assert.ok(items.length > 20 && items.length <= 40, `${items.length} schedules should make exactly two pages`);
    const lastPage = items.slice(20);
    for (const s of lastPage.slice(0, -1)) assert.equal((await api('DELETE', `/api/v1/schedules/${s.id}`)).status, 204);
    const only = lastPage.at(-1);

    await pager.getByRole('link', { name: 'Next' }).click();
    await showsRange('21–21 of 21');
    assert.deepEqual(await visible('schedule-link'), [only.name]);
    await rowOf(only.name).getByTestId('action-delete').click();
    await byTestId('confirm-ok').click();
    await showsRange('1–20 of 20');
    assert.deepEqual(await visible('schedule-link'), items.slice(0, 20).map((s) => s.name));
  });

  await t.test('no script errors or CSP violations in the console', () => {
    assert.deepEqual(pageErrors.slice(errorsBefore), []);
  });
});

test('a one-time schedule is created from a date and time in its own time zone', async () => {
  const name = `Once ${randomBytes(3).toString('hex')}`;
  const errorsBefore = pageErrors.length;
  // The earlier tests leave this page signed in (the token is in session storage).
  await page.goto(`${baseUrl}/#/schedules`);
  await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
  await byTestId('create-schedule').click();
  await page.getByRole('heading', { level: 1, name: 'Create schedule' }).waitFor();
  await byTestId('input-name').fill(name);
  await byTestId('input-user_query').fill(SPECIFIC_QUERY);
  await byTestId('input-frequency').selectOption('once');
  assert.equal(await byTestId('input-scheduled_time').getAttribute('type'), 'datetime-local');
  await byTestId('input-timezone').fill(SCHEDULE_TZ);
  // 09:15 in Berlin on a winter day (CET, UTC+1).
  await byTestId('input-scheduled_time').fill('2027-01-15T09:15');
  const preview = byTestId('preview-runs');
  await preview.filter({ hasText: '09:15' }).waitFor();
  assert.equal(await preview.locator('li').count(), 1, 'a one-time schedule has one run');
  await byTestId('submit').click();
  await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();

  const created = (await api('GET', '/api/v1/schedules?limit=100')).body.items.find((s) => s.name === name);
  assert.ok(created, 'the schedule was created');
  assert.equal(created.frequency, 'once');
  assert.equal(created.timezone, SCHEDULE_TZ);
  assert.equal(created.next_run_at, '2027-01-15T08:15:00Z');
  const row = rowOf(name);
  await row.waitFor();
  assert.equal((await row.getByTestId('frequency').textContent()).trim(), created.schedule_description);
  assert.match(await row.getByTestId('next-run-schedule-tz').textContent(), /09:15/);
  assert.equal((await api('DELETE', `/api/v1/schedules/${created.id}`)).status, 204);
  assert.deepEqual(pageErrors.slice(errorsBefore), []);
});

test('a persona the server adds with PERSONAS can be picked in the form and is stored', async () => {
  const name = `Hunt ${randomBytes(3).toString('hex')}`;
  const errorsBefore = pageErrors.length;
  const me = (await api('GET', '/api/v1/me')).body;
  assert.deepEqual(me.personas, PERSONAS, 'the runner says which personas it accepts');
  await page.goto(`${baseUrl}/#/schedules`);
  // One fresh page load (a goto to the URL already shown would only change the hash), counting /me requests.
  let meRequests = 0;
  const countMe = (r) => {
    if (new URL(r.url()).pathname === '/api/v1/me') meRequests += 1;
  };
  page.on('request', countMe);
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
  await byTestId('create-schedule').click();
  await page.getByRole('heading', { level: 1, name: 'Create schedule' }).waitFor();

  // The choices are the server's, in its order, the first chosen; the lengths are the server's limits.
  const persona = byTestId('input-persona');
  assert.deepEqual(await persona.locator('option').evaluateAll((os) => os.map((o) => o.value)), PERSONAS);
  assert.equal(await persona.inputValue(), 'soc_analyst');
  assert.equal(await byTestId('input-name').getAttribute('maxlength'), String(me.limits.name_max));
  assert.equal(await byTestId('input-description').getAttribute('maxlength'), String(me.limits.description_max));
  assert.equal(await byTestId('input-user_query').getAttribute('maxlength'), String(me.limits.query_max));

  await byTestId('input-name').fill(name);
  await byTestId('input-user_query').fill(SPECIFIC_QUERY);
  await persona.selectOption('threat_hunter');
  await byTestId('preview-runs').locator('li').nth(4).waitFor();
  await byTestId('submit').click();
  await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();

  const created = (await api('GET', '/api/v1/schedules?limit=100')).body.items.find((s) => s.name === name);
  assert.ok(created, 'the schedule was created');
  assert.equal((await api('GET', `/api/v1/schedules/${created.id}`)).body.persona, 'threat_hunter');

  // The detail and the edit form show it back.
  await rowOf(name).getByTestId('schedule-link').click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  assert.equal((await byTestId('detail-persona').textContent()).trim(), 'threat_hunter');
  await byTestId('action-edit').click();
  await page.getByRole('heading', { level: 1, name: `Edit “${name}”` }).waitFor();
  assert.equal(await byTestId('input-persona').inputValue(), 'threat_hunter');
  page.off('request', countMe);
  assert.equal(meRequests, 1, 'the server facts are fetched once per page load, not once per form');
  assert.equal((await api('DELETE', `/api/v1/schedules/${created.id}`)).status, 204);
  assert.deepEqual(pageErrors.slice(errorsBefore), []);
});
