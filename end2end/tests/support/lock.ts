/**
 * A lock shared by Playwright's worker processes, for tests that change a demo account the same
 * test in the other project ("hydrated" / "no-js") changes too: a @nojs test runs twice, and the
 * two runs may be in different workers at the same time. The lock is a directory (mkdir is
 * atomic) holding the owner's process id; a lock whose owner is gone is taken over.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from './fixtures';

const STALE_MS = 5 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    let owner = NaN;
    let since = 0;
    try {
      owner = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'));
      since = fs.statSync(dir).mtimeMs;
    } catch {
      // Being created or removed right now: try again shortly.
      return false;
    }
    if ((Number.isFinite(owner) && !alive(owner)) || Date.now() - since > STALE_MS) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return false;
  }
  fs.writeFileSync(path.join(dir, 'pid'), String(process.pid));
  return true;
}

/**
 * Runs `body` while holding the lock `name`. The time spent waiting for the other holder is
 * added to the test's timeout: it is not this test's own work.
 */
export async function exclusively<T>(name: string, body: () => Promise<T>): Promise<T> {
  const dir = path.join(os.tmpdir(), `portal-e2e-lock-${name}`);
  const started = Date.now();
  while (!tryTake(dir)) {
    if (Date.now() - started > 120_000) throw new Error(`waited 2 minutes for the lock ${dir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const waited = Date.now() - started;
  const info = test.info();
  if (waited > 0 && info.timeout > 0) info.setTimeout(info.timeout + waited);
  if (waited > 500) info.annotations.push({ type: 'lock', description: `waited ${(waited / 1000).toFixed(1)} s for ${name}` });
  try {
    return await body();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
