import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { stat } from 'node:fs/promises';
import { fatal, toErrorData } from '../errors.js';
import { findLedgerEntries, finishRun, insertFailures, insertRun, type FailureRow } from '../db/statements.js';
import type { Logger } from '../log/logger.js';
import { resolveTarget, type TargetSpec } from '../targets/resolve-target.js';
import { walk, type WalkEntry } from '../walk/walk.js';
import type { TaskResult } from '../worker/protocol.js';
import { VERSION } from '../version.js';
import { CorpLayout } from './corp-layout.js';
import { openLedger } from './open-ledger.js';
import { planBatch, type PlannedItem } from './planner.js';
import { Releasers } from './releasers.js';
import { Slots } from './slots.js';
import { StopSignal } from './stop-signal.js';
import { Tally, type Failure, type PlanEntry } from './tally.js';
import { ThreadPool, type TeardownReport } from './thread-pool.js';

export interface ImportOptions {
  root: string;
  threads: number;
  tasksPerThread: number;
  dryRun: boolean;
  databaseUrl?: string;
  dataDir: string;
  target: TargetSpec;
  corp?: number;
  include: string[];
  exclude: string[];
  hidden: boolean;
  followSymlinks: boolean;
  maxSize?: number;
  minAgeMs: number;
  maxBatch: number;
  maxBatchDelayMs: number;
  fileAttempts: number;
  env: NodeJS.ProcessEnv;
}

export type RunStatus = 'succeeded' | 'failed' | 'partial' | 'interrupted';

export interface RunSummary {
  runId: number | null;
  status: RunStatus;
  dryRun: boolean;
  root: string;
  target: string;
  seen: number;
  uploaded: number;
  unchanged: number;
  skipped: number;
  failed: number;
  deferred: number;
  bytesUploaded: number;
  foldersCreated: number;
  retries: number;
  durationMs: number;
  failures: Failure[];
  plan?: PlanEntry[];
  /** Dry run: what would be uploaded. */
  wouldUpload?: { files: number; bytes: number; folders: number };
  stopReason?: string;
  threads?: TeardownReport;
}

export interface RunHooks {
  log: Logger;
  /** Called often with the live counts (progress display). */
  onProgress?: (tally: Tally) => void;
  /** Called when the run starts walking, with where the ledger is. */
  onStart?: (info: { runId: number | null; embeddedDataDir?: string }) => void;
}

const WALK_BATCH = 500;
const FAILURE_FLUSH = 200;

/**
 * One import, start to end: options → ledger → walk → plan → dispatch with backpressure → drain →
 * teardown → summary. Releasers run last-in first-out whatever happens.
 */
export async function runImport(o: ImportOptions, hooks: RunHooks): Promise<RunSummary> {
  const started = Date.now();
  const { log } = hooks;
  const tally = new Tally();
  const failures: Failure[] = [];
  const unsavedFailures: FailureRow[] = [];
  const plan: PlanEntry[] = [];
  const releasers = new Releasers();
  let pool: ThreadPool | null = null;
  const stop = new StopSignal(() => pool?.abortInFlight());
  stop.listen();
  releasers.add('signal handlers', () => stop.dispose());
  let teardown: TeardownReport | undefined;
  let runId: number | null = null;

  try {
    await assertRootIsDirectory(o.root);
    const target = await resolveTarget(o.target, o.env, !o.dryRun);
    const applicationName = `vmb-import/${o.dryRun ? 'dry-run' : 'main'}`;
    const ledger = await openLedger({ databaseUrl: o.databaseUrl, dataDir: o.dataDir, env: o.env }, { dryRun: o.dryRun, applicationName }, releasers, log);
    const { db } = ledger;

    if (!o.dryRun) {
      runId = (await db.run((c) => insertRun(c, { importRoot: o.root, ...target.key, options: recordedOptions(o), host: os.hostname(), pid: process.pid, version: VERSION }))).id;
    }
    hooks.onStart?.({ runId, embeddedDataDir: ledger.embeddedDataDir });

    const slots = new Slots(o.threads * o.tasksPerThread);
    const startPool = () => {
      pool = new ThreadPool({
        threads: o.threads,
        tasksPerThread: o.tasksPerThread,
        log,
        config: {
          runId: runId!,
          database: ledger.target,
          target: target.config,
          applicationName: 'vmb-import/worker',
          maxBatch: o.maxBatch,
          maxBatchDelayMs: o.maxBatchDelayMs,
          fileAttempts: o.fileAttempts,
          channel: `vmb-import:${randomUUID()}`,
        },
      });
      releasers.add('worker threads', async () => {
        if (pool) teardown = await pool.teardown();
        pool = null;
      });
      return pool;
    };

    const fail = (f: Failure) => {
      failures.push(f);
      if (!o.dryRun) unsavedFailures.push({ sourcePath: f.path, stage: f.stage, code: f.code, message: f.reason });
    };
    const saveFailures = async () => {
      if (runId === null || unsavedFailures.length === 0) return;
      const rows = unsavedFailures.splice(0);
      await db.run((c) => insertFailures(c, runId!, rows));
    };

    const onResult = (item: Extract<PlannedItem, { task: unknown }>, r: TaskResult) => {
      tally.foldersCreated += r.foldersCreated;
      if (r.status === 'folder') return;
      tally.retries += r.retries;
      if (r.status === 'uploaded') {
        tally.uploaded++;
        tally.bytesUploaded += r.bytes;
      } else {
        if (item.task.kind === 'file') tally.failed++;
        fail({ path: item.task.sourcePath, stage: r.stage, code: r.code, reason: r.message });
        log.error({ path: item.task.sourcePath, stage: r.stage, code: r.code }, r.message);
      }
    };

    const planner = {
      layout: new CorpLayout(target.namer, o.corp),
      lookup: (paths: string[]) => (ledger.schemaReady ? db.run((c) => findLedgerEntries(c, target.key, paths)) : Promise.resolve(new Map())),
      checkPath: target.checkPath,
      minAgeMs: o.minAgeMs,
      now: Date.now,
    };
    const walker = walk({
      root: o.root,
      include: o.include,
      exclude: o.exclude,
      hidden: o.hidden,
      followSymlinks: o.followSymlinks,
      maxSize: o.maxSize,
      signal: stop.drain.signal,
    });

    let wouldUpload = { files: 0, bytes: 0, folders: 0 };
    for await (const batch of batches(walker, WALK_BATCH)) {
      if (stop.requested) break;
      for (const item of await planBatch(batch, planner)) {
        account(item, tally, fail, o.dryRun ? plan : null);
        if (item.action !== 'upload-new' && item.action !== 'upload-changed' && item.action !== 'create-folder') continue;
        if (o.dryRun) {
          // The dry-run gate: count what would have been done, do none of it.
          if (item.task.kind === 'file') {
            wouldUpload = { ...wouldUpload, files: wouldUpload.files + 1, bytes: wouldUpload.bytes + item.task.size };
          } else wouldUpload.folders++;
          continue;
        }
        if (stop.requested) break;
        await slots.acquire();
        const p = pool ?? startPool();
        tally.inFlight++;
        p.run(item.task)
          .then(
            (r) => onResult(item, r),
            (err) => onResult(item, workerCrash(item, err)),
          )
          .finally(() => {
            tally.inFlight--;
            slots.release();
          });
      }
      hooks.onProgress?.(tally);
      if (unsavedFailures.length >= FAILURE_FLUSH) await saveFailures();
    }
    await slots.idle();
    hooks.onProgress?.(tally);
    await saveFailures();

    const status: RunStatus = stop.reason === 'SIGINT' || stop.reason === 'SIGTERM' ? 'interrupted' : stop.reason === 'max-runtime' ? 'partial' : tally.failed > 0 ? 'failed' : 'succeeded';
    if (pool) {
      // Close every thread's connection before the run is marked finished, so "finished" means
      // nothing of this run still holds the database.
      teardown = await (pool as ThreadPool).teardown();
      pool = null;
    }
    if (runId !== null) await db.run((c) => finishRun(c, runId!, status, tally.counts()));
    return {
      runId,
      status,
      dryRun: o.dryRun,
      root: o.root,
      target: target.describe,
      ...tally.counts(),
      durationMs: Date.now() - started,
      failures,
      ...(o.dryRun ? { plan, wouldUpload } : {}),
      ...(stop.reason ? { stopReason: stop.reason } : {}),
      ...(teardown ? { threads: teardown } : {}),
    };
  } finally {
    await releasers.releaseAll((name, err) => log.warn({ step: name, err: toErrorData(err).message }, 'clean-up step failed'));
  }
}

function account(item: PlannedItem, tally: Tally, fail: (f: Failure) => void, plan: PlanEntry[] | null): void {
  switch (item.action) {
    case 'skip':
      if (!item.isDir) {
        tally.seen++;
        tally.skipped++;
      }
      fail({ path: item.path, stage: 'walk', code: item.code, reason: item.reason });
      plan?.push({ path: item.path, action: 'skip', reason: `${item.code}: ${item.reason}` });
      return;
    case 'defer':
      tally.seen++;
      tally.deferred++;
      plan?.push({ path: item.path, action: 'defer', reason: item.reason });
      return;
    case 'unchanged':
      if (!item.isFolder) {
        tally.seen++;
        tally.unchanged++;
      }
      return;
    case 'create-folder':
      plan?.push({ path: item.task.sourcePath, action: 'create-folder' });
      return;
    case 'upload-new':
    case 'upload-changed':
      tally.seen++;
      tally.toUpload++;
      tally.bytesToUpload += item.task.size;
      plan?.push({ path: item.task.sourcePath, action: item.action, bytes: item.task.size });
  }
}

function workerCrash(item: Extract<PlannedItem, { task: unknown }>, err: unknown): TaskResult {
  return { status: 'failed', stage: 'upload', code: 'worker-error', kind: 'retryable', message: `worker thread failed while handling ${item.task.sourcePath}: ${toErrorData(err).message}`, retries: 0, foldersCreated: 0 };
}

async function* batches<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const x of source) {
    batch.push(x);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function assertRootIsDirectory(root: string): Promise<void> {
  try {
    if ((await stat(root)).isDirectory()) return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fatal('config-root-missing', `import directory ${root} does not exist`);
    throw fatal('config-root-unreadable', `import directory ${root} cannot be read (${code})`);
  }
  throw fatal('config-root-not-dir', `import path ${root} is a file, not a directory`);
}

/** What the run row keeps of the options: never a secret. */
function recordedOptions(o: ImportOptions): Record<string, unknown> {
  return {
    threads: o.threads,
    tasksPerThread: o.tasksPerThread,
    target: o.target.kind,
    corp: o.corp ?? null,
    include: o.include,
    exclude: o.exclude,
    hidden: o.hidden,
    followSymlinks: o.followSymlinks,
    maxSize: o.maxSize ?? null,
    minAgeMs: o.minAgeMs,
  };
}

export type { WalkEntry };
