// What the browser tests share: finding the local runner binary, a free loopback port, waiting for the runner to
// answer, and the headless chromium flags. Not a test file itself (node --test runs only *.test.mjs here).

import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Debian's chromium, headless, without anything that would reach out of the machine. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** LOCAL_BIN, else a built runner under CARGO_TARGET_DIR or target/ (release first). */
export function runnerBinary() {
  if (process.env.LOCAL_BIN) return path.resolve(ROOT, process.env.LOCAL_BIN);
  const targets = [process.env.CARGO_TARGET_DIR, path.join(ROOT, 'target')].filter(Boolean);
  for (const dir of targets) {
    for (const profile of ['release', 'debug']) {
      const candidate = path.resolve(ROOT, dir, profile, 'scheduled-investigations');
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error('local runner binary not found: run `cargo build --release -p local` or set LOCAL_BIN');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `${baseUrl}/healthz` until it answers 200; fails fast if `runner` exits (see `logPath`). Bounded: 60 s. */
export async function waitForHealth(runner, baseUrl, logPath) {
  const deadline = Date.now() + 60_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (runner.exitCode !== null) throw new Error(`local runner exited with ${runner.exitCode}; see ${logPath}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`local runner not healthy after 60 s (${last})`);
}
