/**
 * The e-mail a test server sent. The e2e servers have no SMTP relay, so the outbox writes every
 * message as an RFC 5322 `.eml` file into `<PORTAL_DATA_DIR>/mail` (docs/configuration.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from './fixtures';
import type { PortalServer } from './servers';

export interface Mail {
  file: string;
  /** When the file was written (ms since the epoch). */
  writtenAt: number;
  /** Header fields, names in lower case, values unfolded and RFC 2047-decoded. */
  headers: Record<string, string>;
  subject: string;
  to: string;
  /** The text body, transfer encoding undone. */
  body: string;
}

function unfoldHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const lines = block.replace(/\r\n/g, '\n').split('\n');
  let current: string | null = null;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && current) {
      headers[current] += ' ' + line.trim();
    } else {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      current = line.slice(0, i).trim().toLowerCase();
      headers[current] = line.slice(i + 1).trim();
    }
  }
  for (const k of Object.keys(headers)) headers[k] = decodeWords(headers[k]);
  return headers;
}

/** RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`). */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) => {
      if (enc.toLowerCase() === 'b') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    });
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/\r\n/g, '\n')
    .replace(/=\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export function parseMail(file: string): Mail {
  const raw = fs.readFileSync(file, 'utf8');
  const split = raw.search(/\r?\n\r?\n/);
  const headerBlock = split < 0 ? raw : raw.slice(0, split);
  const rawBody = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = unfoldHeaders(headerBlock);
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let body: string;
  if (encoding === 'base64') body = Buffer.from(rawBody.replace(/\s+/g, ''), 'base64').toString('utf8');
  else if (encoding === 'quoted-printable') body = decodeQuotedPrintable(rawBody);
  else body = rawBody.replace(/\r\n/g, '\n');
  return {
    file,
    writtenAt: fs.statSync(file).mtimeMs,
    headers,
    subject: headers['subject'] ?? '',
    to: headers['to'] ?? '',
    body,
  };
}

/** Every message the server wrote so far, oldest first. */
export function mailOf(server: PortalServer): Mail[] {
  const dir = path.join(server.dataDir, 'mail');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => parseMail(path.join(dir, f)))
    .sort((a, b) => a.writtenAt - b.writtenAt);
}

function addressedTo(mail: Mail, address: string): boolean {
  return mail.to.toLowerCase().includes(address.toLowerCase());
}

/**
 * Waits for the newest message to `to` whose subject contains `subject`, written at or after
 * `since` (the outbox sends within a moment; its worker also wakes every 5 seconds).
 */
export async function waitForMail(
  server: PortalServer,
  { to, subject, since = 0 }: { to: string; subject: string; since?: number },
): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      () => {
        found = mailOf(server)
          .filter((m) => addressedTo(m, to) && m.subject.includes(subject) && m.writtenAt >= since - 1000)
          .pop();
        return found ? 'arrived' : 'not yet';
      },
      { message: `an e-mail to ${to} about "${subject}" in ${path.join(server.dataDir, 'mail')}`, timeout: 15_000, intervals: [100, 250, 500] },
    )
    .toBe('arrived');
  return found!;
}

/** The first link in `body` to `pathname` on the portal. */
export function linkIn(body: string, pathname: string): URL {
  const links = body.match(/https?:\/\/[^\s<>"]+/g) ?? [];
  const link = links.map((l) => new URL(l)).find((u) => u.pathname === pathname);
  if (!link) throw new Error(`no link to ${pathname} in the e-mail:\n${body}`);
  return link;
}
