// Browser test of a run's findings: the local runner against a scripted engine (a loopback HTTP server here, whose
// sessions complete at once with the findings each run is given), two runs of one schedule — {A, B} then
// {B, C} — and the page showing the schedule's badges, the second run's findings table with New/Ongoing badges,
// copyable entities and MITRE ids, its Resolved section (A), and the form's notify_on choices.
//
//   cargo build -p local && (cd tests/ui && npm ci) && LOCAL_BIN=... node --test tests/ui/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ROOT, runnerBinary } from './support.mjs';

const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts', 'ui');
const TOKEN = `ui-findings-${randomBytes(12).toString('hex')}`;
const WAIT = 30_000;
const QUERY = 'failed sign-ins in the last 24 hours with more than 5 attempts from the same IP';

const A = { title: 'Password spray from 203.0.113.7', severity: 'high', entities: ['203.0.113.7'], mitre_techniques: ['T1110.003'] };
const B = { title: 'Sign-in from a new country for bob@contoso.com', severity: 'medium', entities: [{ type: 'account', value: 'bob@contoso.com' }] };
const C = { name: 'New global admin: carol@contoso.com', severity: 'critical', iocs: [{ type: 'account', value: 'carol@contoso.com' }], techniques: ['T1098'] };
const SESSIONS = [[A, B], [B, C]];

let engine;
let runner;
let runnerExit;
let baseUrl;
let tmp;
let context;
let page;
const pageErrors = [];

/** Listens on a free loopback port; resolves to the port. */
function listen(server) {
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** The scripted engine: session n (in start order) is completed with SESSIONS[n]. */
function scriptedEngine() {
  let started = 0;
  return createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    if (req.method === 'POST' && req.url === '/api/v1/investigations/start') {
      send(201, { session_id: `ses_${started++}`, status: 'active' });
      return;
    }
    const m = /^\/api\/v1\/sessions\/ses_(\d+)$/.exec(req.url);
    if (req.method === 'GET' && m && SESSIONS[Number(m[1])]) {
      send(200, { status: 'completed', summary: 'scripted', findings: SESSIONS[Number(m[1])] });
      return;
    }
    send(404, { detail: 'no such session' });
  });
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

async function waitForApi(p, what, done) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const res = await api('GET', p);
    if (res.status === 200 && done(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'si-ui-findings-'));
  engine = scriptedEngine();
  const enginePort = await listen(engine);
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r));
  baseUrl = `http://127.0.0.1:${port}`;
  const log = createWriteStream(path.join(ARTIFACTS, 'runner-findings.log'));
  runner = spawn(runnerBinary(), [], {
    cwd: tmp,
    env: {
      ...process.env,
      LISTEN_ADDR: `127.0.0.1:${port}`,
      DATA_DIR: path.join(tmp, 'data'),
      API_TOKEN: TOKEN,
      ENGINE_URL: `http://127.0.0.1:${enginePort}`,
      DISPATCH_INTERVAL_SECS: '1',
      STATUS_CHECK_INTERVAL_SECS: '1',
      RUST_LOG: process.env.RUST_LOG || 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runner.stdout.pipe(log);
  runner.stderr.pipe(log);
  runnerExit = new Promise((resolve) => runner.once('exit', resolve));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (runner.exitCode !== null) throw new Error(`local runner exited with ${runner.exitCode}`);
    const ok = await fetch(`${baseUrl}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('local runner not healthy after 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
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
  engine?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test("a run's findings show with New/Ongoing badges and a Resolved section", async () => {
  const name = `Spray watch ${randomBytes(3).toString('hex')}`;
  const created = await api('POST', '/api/v1/schedules', {
    name, user_query: QUERY, persona: 'soc_analyst', frequency: 'daily', scheduled_time: '08:00', timezone: 'UTC',
    notify_on: 'new_findings',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  for (let n = 0; n < SESSIONS.length; n++) {
    const ran = await api('POST', `/api/v1/schedules/${id}/run`);
    assert.equal(ran.status, 202, JSON.stringify(ran.body));
    await waitForApi(`/api/v1/schedules/${id}/runs`, `run ${n + 1} to complete`, (b) =>
      b.items[0]?.run_id === ran.body.run_id && b.items[0].status === 'completed');
  }

  // The list: the latest run's badges.
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('token-input').fill(TOKEN);
  await page.getByTestId('token-submit').click();
  const row = page.locator(`[data-testid="schedule-row"][data-name="${name}"]`);
  await row.waitFor();
  assert.equal(await row.getByTestId('badge-new').textContent(), '1 new');
  assert.equal(await row.getByTestId('severity').textContent(), 'critical');
  assert.equal(await row.getByTestId('badge-resolved').textContent(), '1 resolved');

  // The detail: the newest run expands to its findings.
  await row.getByTestId('schedule-link').click();
  const runs = page.getByTestId('run-row');
  await runs.first().waitFor();
  assert.equal(await runs.count(), 2);
  await runs.first().getByTestId('findings-toggle').click();
  const panel = page.getByTestId('findings-panel');
  await panel.waitFor();
  const findings = panel.getByTestId('finding-row');
  assert.equal(await findings.count(), 2);
  assert.deepEqual(await findings.getByTestId('finding-title').allTextContents(), [B.title, C.name]);
  assert.deepEqual(await findings.getByTestId('finding-status').allTextContents(), ['Ongoing', 'New']);
  assert.deepEqual(await findings.getByTestId('severity').allTextContents(), ['medium', 'critical']);
  assert.equal(await findings.nth(1).getByTestId('mitre').textContent(), 'T1098');
  assert.equal(await findings.nth(1).getByTestId('entity').locator('code').textContent(), 'carol@contoso.com');
  assert.equal(await findings.nth(1).getByTestId('copy-entity').getAttribute('aria-label'), 'Copy carol@contoso.com');
  const resolved = panel.getByTestId('resolved-section');
  assert.deepEqual(await resolved.getByTestId('resolved-title').allTextContents(), [A.title]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'findings.png'), fullPage: true });
  // Collapsing hides it again.
  await runs.first().getByTestId('findings-toggle').click();
  assert.equal(await page.getByTestId('findings-panel').count(), 0);

  // The form: notify_on with one line per choice, the schedule's choice checked; changing it saves.
  await page.goto(`${baseUrl}/#/schedules/${id}/edit`);
  const choices = page.getByTestId('input-notify_on').locator('label.choice');
  await choices.first().waitFor();
  assert.equal(await choices.count(), 4);
  for (const line of await page.getByTestId('input-notify_on').locator('.choice-line').allTextContents()) assert.ok(line.length > 20, line);
  assert.equal(await page.getByTestId('notify-new_findings').isChecked(), true);
  await page.getByTestId('notify-failures').check();
  await page.getByTestId('submit').click();
  await page.waitForURL(new RegExp(`#/schedules/${id}$`));
  const saved = await api('GET', `/api/v1/schedules/${id}`);
  assert.equal(saved.body.notify_on, 'failures');
  assert.deepEqual(pageErrors, []);
});
