import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fatal } from '../errors/vmb-error.js';

/**
 * Who uses the embedded PostgreSQL of a data directory. Every vmb-import process that opens the
 * ledger there writes a lease file into `<dataDir>/postgres-leases` and removes it when it is done;
 * the server must run while any lease belongs to a live process, and the last user out stops it.
 * A process killed with -9 cannot remove its lease, so a lease counts only while its process lives:
 * the next user that looks prunes it.
 *
 * Starting, joining and leaving are decisions over "is the server up" and "who else is here", so
 * they run under a cross-process mutex (`<dataDir>/postgres.lock`), see `whileDeciding`.
 */
export interface Lease {
  file: string;
}

interface LeaseContent {
  pid: number;
  /** The process's start time, so a lease does not pass to a later process given the same pid. */
  processStart: string;
}

const MUTEX_STALE_MS = 10_000;
/** The mutex is held across initdb and a pg_ctl start or stop (pg_ctl gives up after 60 s); two minutes outlasts any of them. */
const MUTEX_WAIT = { retries: 600, factor: 1, minTimeout: 200, maxTimeout: 200, randomize: true };

/**
 * Run `decide` while no other vmb-import process decides about this data directory's server.
 * proper-lockfile rather than a hand-made lock: an atomic mkdir lock whose holder refreshes its
 * mtime, so a holder that was killed leaves a lock the others treat as stale after 10 s instead of
 * one that blocks the data directory forever; it is also released on a normal exit.
 */
export async function whileDeciding<T>(dataDir: string, warn: (line: string) => void, decide: () => Promise<T>): Promise<T> {
  const lockPath = path.join(dataDir, 'postgres.lock');
  // Loaded here, not at start-up: with it come graceful-fs (which wraps fs.close for the whole
  // process) and signal-exit, which a run against a configured database has no use for.
  const { default: lockfile } = await import('proper-lockfile');
  let unlock: () => Promise<void>;
  try {
    unlock = await lockfile.lock(dataDir, {
      lockfilePath: lockPath,
      stale: MUTEX_STALE_MS,
      retries: MUTEX_WAIT,
      // The default throws from a timer, which would kill the run. Losing the mutex (the event loop
      // stalled past the stale time and another process took it) only means two processes may
      // decide at once, which the next user's decision corrects.
      onCompromised: (err) => warn(`lost the embedded PostgreSQL mutex ${lockPath}: ${err.message}`),
    });
  } catch (err) {
    throw fatal('embedded-postgres', `could not take ${lockPath}, which another vmb-import holds while it starts or stops the embedded PostgreSQL: ${(err as Error).message}`);
  }
  try {
    return await decide();
  } finally {
    await unlock().catch(() => undefined);
  }
}

/** Register this process as a user of the server; call while deciding. */
export async function takeLease(dataDir: string): Promise<Lease> {
  const dir = leaseDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${process.pid}-${randomUUID()}.json`);
  const content: LeaseContent = { pid: process.pid, processStart: (await processStart(process.pid)) ?? '' };
  await writeFile(file, JSON.stringify(content));
  return { file };
}

export async function dropLease(lease: Lease): Promise<void> {
  await rm(lease.file, { force: true });
}

/** How many leases belong to live processes; those of dead ones are removed on the way. */
export async function liveLeases(dataDir: string): Promise<number> {
  const dir = leaseDir(dataDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let live = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    if (await belongsToLiveProcess(file)) live++;
    else await rm(file, { force: true });
  }
  return live;
}

function leaseDir(dataDir: string): string {
  return path.join(dataDir, 'postgres-leases');
}

async function belongsToLiveProcess(file: string): Promise<boolean> {
  let lease: LeaseContent;
  try {
    lease = JSON.parse(await readFile(file, 'utf8')) as LeaseContent;
  } catch {
    // Removed meanwhile, or cut short by a crash while being written: nobody holds it.
    return false;
  }
  const start = await processStart(lease.pid);
  if (start === null) return false;
  // '' where the start time cannot be read (no /proc): liveness of the pid has to do.
  return lease.processStart === '' || start === '' || lease.processStart === start;
}

/** Whether process `pid` runs on this host (a zombie has exited: it only waits for its parent). */
export async function isRunning(pid: number): Promise<boolean> {
  return (await processStart(pid)) !== null;
}

/**
 * The start time of process `pid` (clock ticks since boot, field 22 of /proc/<pid>/stat), '' when
 * it lives but there is no /proc to ask, null when no such process runs on this host.
 */
async function processStart(pid: number): Promise<string | null> {
  if (!signalReaches(pid)) return null;
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return signalReaches(pid) ? '' : null;
  }
  // Field 2, the command name, is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? null : (fields[19] ?? '');
}

/** Signal 0 tests for the process without touching it; EPERM means it lives under another user. */
function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
