/**
 * Direct access to a test server's SQLite database, for putting a demo account back into the
 * state a test starts from (when the server, reused between runs, kept what an earlier run
 * changed). Needs the `sqlite3` command (scripts/setup --test installs it).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { PortalServer } from './servers';

/** Runs `sql` against the server's database (waiting up to 5 s for its lock); returns the output. */
export function sqlite(server: PortalServer, sql: string): string {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', path.join(server.dataDir, 'portal.db'), sql], {
    encoding: 'utf8',
    timeout: 15_000,
  });
}
