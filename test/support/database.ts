import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';

export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test`');
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Run `fn` with a short-lived superuser client on `url`. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'vmb-test' });
  // Tests terminate backends on purpose; an unheard 'error' would crash the test process.
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A new, empty database for one test file, dropped when the file's tests end. */
export async function freshDatabase(label = 'db'): Promise<{ url: string; name: string }> {
  const name = `vmb_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withClient(serverUrl(), (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  after(async () => {
    await withClient(serverUrl(), (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
  });
  return { url: withDatabase(serverUrl(), name), name };
}
