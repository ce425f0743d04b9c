// Signing in with an identity provider, for real: `oidc-provider` (a certified OpenID Provider, from the npm
// registry) runs here on a loopback port with one public client (authorization code + PKCE, the local runner's
// redirect URI) and two users, an analyst and an admin; the local runner runs in AUTH_MODE=oidc against it and
// verifies the provider's JWT access tokens itself. Headless chromium opens the runner's page, goes through the
// provider's login and consent pages, sees the analyst's schedules only, creates one and signs out (which also ends
// the provider's session). Nothing leaves the loopback interface.
//
// Run as the other browser tests: `node --test tests/ui/` with LOCAL_BIN (or a built runner) and chromium.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Provider from 'oidc-provider';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, ROOT, freePort, runnerBinary, waitForHealth } from './support.mjs';

const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts', 'ui-signin');
const WAIT = 30_000;
const CLIENT_ID = 'scheduled-investigations-ui';
const AUDIENCE = 'api://scheduled-investigations';
const KID = `test-key-${randomBytes(4).toString('hex')}`;
const USERS = { analyst: { name: 'Ada Analyst', roles: ['analyst'] }, admin: { name: 'Sam Admin', roles: ['admin'] } };
const QUERY = 'failed sign-ins in the last 24 hours with more than 5 attempts from the same IP';

let providerServer;
let issuer;
let runner;
let runnerExit;
let baseUrl;
let tmp;
let context;
let page;
let signingKey;
const pageErrors = [];

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** An access token as the provider would issue it, signed with the provider's own key (for seeding over the API). */
function mintAccessToken(sub) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'at+jwt', kid: KID };
  const claims = { iss: issuer, aud: AUDIENCE, sub, client_id: CLIENT_ID, scope: 'api', iat: now, exp: now + 600, roles: USERS[sub].roles };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(signingKey);
  return `${input}.${b64url(signature)}`;
}

async function api(method, p, token, body) {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'si-signin-'));
  const [providerPort, runnerPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${providerPort}`;
  baseUrl = `http://127.0.0.1:${runnerPort}`;

  // The provider: its signing key generated here, one public PKCE client, two accounts, JWT access tokens for the
  // API's audience carrying the account's roles.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  signingKey = privateKey;
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [`${baseUrl}/`],
        post_logout_redirect_uris: [`${baseUrl}/`],
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['name'] },
    scopes: ['openid', 'profile', 'api'],
    async findAccount(_ctx, id) {
      const user = USERS[id];
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, name: user.name }) };
    },
    async extraTokenClaims(_ctx, token) {
      return token.kind === 'AccessToken' ? { roles: USERS[token.accountId]?.roles ?? [] } : undefined;
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => AUDIENCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== AUDIENCE) throw new Provider.errors.InvalidTarget();
          return { scope: 'api', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
  });
  const providerLog = createWriteStream(path.join(ARTIFACTS, 'provider.log'));
  provider.on('server_error', (_ctx, e) => providerLog.write(`server_error: ${e.stack}\n`));
  for (const event of ['authorization.error', 'grant.error', 'end_session.error']) {
    provider.on(event, (_ctx, e) => providerLog.write(`${event}: ${e.message} ${e.error_description ?? ''}\n`));
  }
  providerServer = createHttpServer(provider.callback());
  await new Promise((resolve) => providerServer.listen(providerPort, '127.0.0.1', resolve));

  // The runner, verifying the provider's tokens itself.
  const log = createWriteStream(path.join(ARTIFACTS, 'runner.log'));
  runner = spawn(runnerBinary(), [], {
    cwd: tmp,
    env: {
      ...process.env,
      LISTEN_ADDR: `127.0.0.1:${runnerPort}`,
      DATA_DIR: path.join(tmp, 'data'),
      AUTH_MODE: 'oidc',
      OIDC_ISSUER: issuer,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_SCOPES: 'openid profile api',
      OIDC_RESOURCE: AUDIENCE,
      ADMIN_ROLE: 'admin',
      DISPATCH_INTERVAL_SECS: '3600',
      STATUS_CHECK_INTERVAL_SECS: '3600',
      RUST_LOG: process.env.RUST_LOG || 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runner.stdout.pipe(log);
  runner.stderr.pipe(log);
  runnerExit = new Promise((resolve) => runner.once('exit', resolve));
  await waitForHealth(runner, baseUrl, `${ARTIFACTS}/runner.log`);

  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium'), {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 860 },
    locale: 'en-US',
  });
  context.setDefaultTimeout(WAIT);
  // Only loopback: the provider's development pages ask for web fonts from the internet; those requests are
  // refused here before they leave the browser (not even a name lookup).
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort('blockedbyclient'),
  );
  page = context.pages()[0] ?? (await context.newPage());
  // Our pages only: the provider's development login pages load web fonts from the internet, which fails here.
  const ours = () => page.url().startsWith(`${baseUrl}/`);
  page.on('pageerror', (e) => ours() && pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs every 4xx; the test provokes one 401 (a garbled token) on purpose.
    const expected = /^Failed to load resource: the server responded with a status of 401 /;
    if (m.type() === 'error' && ours() && !expected.test(m.text())) pageErrors.push(`console (${page.url()}): ${m.text()}`);
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (runner && runner.exitCode === null) {
    runner.kill('SIGTERM');
    const stopped = await Promise.race([runnerExit, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
    if (stopped === 'timeout') runner.kill('SIGKILL');
  }
  await new Promise((resolve) => (providerServer ? providerServer.close(resolve) : resolve()));
  providerServer?.closeAllConnections?.();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('an analyst signs in with the identity provider, sees only their schedules, creates one and signs out', async (t) => {
  // Given: one schedule per user, created over the API with tokens signed by the provider's key.
  const seeded = {};
  for (const user of Object.keys(USERS)) {
    const res = await api('POST', '/api/v1/schedules', mintAccessToken(user), {
      name: `Seeded for ${user}`,
      user_query: QUERY,
      persona: 'soc_analyst',
      frequency: 'daily',
      scheduled_time: '09:00',
      timezone: 'UTC',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.owner, user);
    seeded[user] = res.body;
  }
  const admin = mintAccessToken('admin');

  await t.test('the page is public, asks to sign in, and its CSP lets it reach the provider only', async () => {
    const res = await page.goto(`${baseUrl}/`);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, new RegExp(`connect-src 'self' ${issuer.replace(/[.]/g, '\\.')};`));
    assert.doesNotMatch(csp, /unsafe/);
    await page.getByRole('heading', { level: 1, name: 'Sign in with your organisation account' }).waitFor();
  });

  await t.test("through the provider's login and consent pages and back", async () => {
    await page.getByTestId('signin-button').click();
    await page.waitForURL((url) => url.origin === issuer);
    await page.locator('input[name="login"]').fill('analyst');
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.origin === baseUrl && url.hash === '#/schedules');
    assert.equal(new URL(page.url()).search, '', 'the code is gone from the address bar');
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
    await page.getByTestId('whoami').filter({ hasText: 'analyst · analyst' }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'signed-in.png') });
  });

  await t.test("the access token is the bearer, kept in this tab's session storage only", async () => {
    const stored = await page.evaluate(() => ({
      session: Object.keys(sessionStorage),
      local: Object.keys(localStorage),
      tokens: JSON.parse(sessionStorage.getItem('scheduled-investigations.oidc-tokens') || 'null'),
    }));
    assert.deepEqual(stored.local, [], 'nothing in localStorage');
    assert.ok(stored.tokens && stored.tokens.access_token && stored.tokens.id_token, JSON.stringify(stored.session));
    const payload = JSON.parse(Buffer.from(stored.tokens.access_token.split('.')[1], 'base64url').toString());
    assert.equal(payload.aud, AUDIENCE);
    assert.equal(payload.sub, 'analyst');
  });

  await t.test("the analyst sees their own schedule, not the admin's", async () => {
    await page.locator('[data-testid="schedule-row"][data-name="Seeded for analyst"]').waitFor();
    assert.equal(await page.locator('[data-testid="schedule-row"][data-name="Seeded for admin"]').count(), 0);
    assert.equal(await page.locator('[data-testid="schedule-row"]').count(), 1);
  });

  await t.test('creates a schedule, owned by the signed-in user', async () => {
    const name = `Created after sign-in ${randomBytes(3).toString('hex')}`;
    await page.getByTestId('create-schedule').click();
    await page.getByRole('heading', { level: 1, name: 'Create schedule' }).waitFor();
    await page.getByTestId('input-name').fill(name);
    await page.getByTestId('input-user_query').fill(QUERY);
    await page.getByTestId('input-timezone').fill('UTC');
    await page.getByTestId('submit').click();
    await page.getByRole('heading', { level: 1, name: 'Schedules' }).waitFor();
    await page.locator(`[data-testid="schedule-row"][data-name="${name}"]`).waitFor();
    const all = await api('GET', '/api/v1/schedules?limit=100', admin);
    assert.equal(all.status, 200);
    const created = all.body.items.find((s) => s.name === name);
    assert.ok(created, 'the admin sees it');
    assert.equal(created.owner, 'analyst');
  });

  const KEY = 'scheduled-investigations.oidc-tokens';
  const storedTokens = () => page.evaluate((k) => JSON.parse(sessionStorage.getItem(k) || 'null'), KEY);

  await t.test('an expired token sends the user through the provider again, back to the same page', async () => {
    const before = await storedTokens();
    await page.evaluate((k) => {
      const tokens = JSON.parse(sessionStorage.getItem(k));
      sessionStorage.setItem(k, JSON.stringify({ ...tokens, expires_at: Date.now() - 1000 }));
    }, KEY);
    await page.goto(`${baseUrl}/#/notifications`);
    // The provider's session is still there, so it answers without asking; the UI lands where it was.
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    await page.waitForURL((url) => url.origin === baseUrl && url.hash === '#/notifications' && url.search === '');
    const after = await storedTokens();
    assert.notEqual(after.access_token, before.access_token, 'a new access token');
  });

  await t.test('a 401 from the API (a revoked or garbled token) does the same', async () => {
    await page.evaluate((k) => {
      const tokens = JSON.parse(sessionStorage.getItem(k));
      sessionStorage.setItem(k, JSON.stringify({ ...tokens, access_token: 'not-a-valid-token', obtained_at: Date.now() - 3_600_000 }));
    }, KEY);
    await page.goto(`${baseUrl}/#/schedules`);
    await page.waitForURL((url) => url.origin === baseUrl && url.hash === '#/schedules' && url.search === '');
    await page.locator('[data-testid="schedule-row"][data-name="Seeded for analyst"]').waitFor();
    assert.notEqual((await storedTokens()).access_token, 'not-a-valid-token');
  });

  await t.test("signs out, ending the provider's session too", async () => {
    await page.getByTestId('sign-out').click();
    await page.waitForURL((url) => url.origin === issuer);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL((url) => url.origin === baseUrl);
    await page.getByRole('heading', { level: 1, name: 'Sign in with your organisation account' }).waitFor();
    const tokens = await page.evaluate(() => sessionStorage.getItem('scheduled-investigations.oidc-tokens'));
    assert.equal(tokens, null, 'the tokens are gone');
    // Signing in again asks for the login once more: the provider's session ended too.
    await page.getByTestId('signin-button').click();
    await page.waitForURL((url) => url.origin === issuer);
    await page.locator('input[name="login"]').waitFor();
  });

  await t.test('no script errors or CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
  assert.ok(seeded.admin.id !== seeded.analyst.id);
});

test('the vendored oauth4webapi is the pinned npm release, with its licence', async () => {
  const vendored = await readFile(path.join(ROOT, 'functions/api/ui/vendor/oauth4webapi.js'), 'utf8');
  const pinned = await readFile(path.join(ROOT, 'tests/ui/node_modules/oauth4webapi/build/index.js'), 'utf8');
  assert.equal(vendored, pinned, 'functions/api/ui/vendor/oauth4webapi.js differs from the package in tests/ui/package.json');
  const license = await readFile(path.join(ROOT, 'functions/api/ui/vendor/oauth4webapi.LICENSE.md'), 'utf8');
  assert.equal(license, await readFile(path.join(ROOT, 'tests/ui/node_modules/oauth4webapi/LICENSE.md'), 'utf8'));
});
