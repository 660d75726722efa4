import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fatal, toErrorData } from '../errors.js';
import type { DatabaseTarget } from '../db/connection-config.js';
import { markDeadRunsInterrupted, runLockKey } from '../db/run-lock.js';
import { findLedgerEntries, finishRun, insertRun, type DriveKey } from '../db/statements.js';
import type { ThreadClient } from '../db/thread-client.js';
import type { Logger } from '../log/logger.js';
import { resolveTarget, type TargetSpec } from '../targets/resolve-target.js';
import { checkRoot } from '../walk/root.js';
import { walk } from '../walk/walk.js';
import { afterUpload } from '../worker/after-upload.js';
import type { AfterUpload } from '../worker/protocol.js';
import { VERSION } from '../version.js';
import { CorpLayout } from './corp-layout.js';
import { Dispatcher } from './dispatcher.js';
import { FailureLog } from './failure-log.js';
import { openLedger } from './open-ledger.js';
import { planBatch, type PlannedItem, type PlannerOptions } from './planner.js';
import { Releasers } from './releasers.js';
import { RunLockKeeper } from './run-lock-keeper.js';
import { StopSignal } from './stop-signal.js';
import { Tally, type Failure, type PlanEntry } from './tally.js';
import type { TeardownReport } from './thread-pool.js';

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
  checksum: boolean;
  afterUpload: AfterUpload;
  /** Stop dispatching after this long and finish what is in flight (0: no limit). */
  maxRuntimeMs: number;
  /** After a signal, how long files in flight may take to finish before they are aborted. */
  graceMs: number;
  /** When another run holds the lock: 0 exit with 75 at once, else wait this long (Infinity: no limit). */
  waitLockMs: number;
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
  afterUploadFailed: number;
  durationMs: number;
  /** The first 1,000; `failuresTotal` counts them all (vmb-import failures lists them). */
  failures: Failure[];
  failuresTotal: number;
  /** Dry run: every file and folder that would be acted on. */
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
  /** Called when the run starts walking. */
  onStart?: (info: { runId: number | null; embeddedDataDir?: string }) => void;
}

const WALK_BATCH = 500;

/**
 * One import, start to end: options → ledger → walk → plan → dispatch with backpressure → drain →
 * teardown → summary. Releasers run last-in first-out whatever happens.
 */
export async function runImport(o: ImportOptions, hooks: RunHooks): Promise<RunSummary> {
  const started = Date.now();
  const { log } = hooks;
  const tally = new Tally();
  const plan: PlanEntry[] = [];
  const wouldUpload = { files: 0, bytes: 0, folders: 0 };
  const releasers = new Releasers();
  let dispatcher: Dispatcher | null = null;
  const stop = new StopSignal(() => dispatcher?.abortInFlight());
  stop.listen();
  releasers.add('signal handlers', () => stop.dispose());

  try {
    await checkRoot(o.root);
    const target = await resolveTarget(o.target, o.env, !o.dryRun);
    const ledger = await openLedger({ databaseUrl: o.databaseUrl, dataDir: o.dataDir, env: o.env }, { dryRun: o.dryRun, applicationName: `vmb-import/${o.dryRun ? 'dry-run' : 'main'}` }, releasers, log);
    const { db } = ledger;
    const runId = o.dryRun ? null : await startRun(o, target.key, ledger.target, stop, releasers, log, db);
    const failures = new FailureLog(db, runId);
    hooks.onStart?.({ runId, embeddedDataDir: ledger.embeddedDataDir });
    if (o.maxRuntimeMs > 0) {
      const timer = setTimeout(() => stop.stop('max-runtime'), o.maxRuntimeMs);
      releasers.add('max-runtime timer', () => clearTimeout(timer));
    }

    const planner: PlannerOptions = {
      layout: new CorpLayout(target.namer, o.corp),
      lookup: (paths) => (ledger.schemaReady ? db.run((c) => findLedgerEntries(c, target.key, paths)) : Promise.resolve(new Map())),
      checkPath: target.checkPath,
      minAgeMs: o.minAgeMs,
      checksum: o.checksum,
      now: Date.now,
    };
    dispatcher = new Dispatcher({
      threads: o.threads,
      log,
      tally,
      failures,
      onFatal: (code, message) => {
        if (!stop.requested) log.error({ code }, `stopping the run: ${message}`);
        stop.stop('fatal-error');
      },
      config: {
        runId: runId ?? 0,
        database: ledger.target,
        target: target.config,
        applicationName: 'vmb-import/worker',
        uploadsPerThread: o.tasksPerThread,
        maxBatch: o.maxBatch,
        maxBatchDelayMs: o.maxBatchDelayMs,
        fileAttempts: o.fileAttempts,
        channel: `vmb-import:${randomUUID()}`,
        afterUpload: o.afterUpload,
        followSymlinks: o.followSymlinks,
      },
    });
    const threads = dispatcher;
    releasers.add('worker threads', () => threads.teardown());
    stop.drain.signal.addEventListener('abort', () => threads.stopStarting(), { once: true });

    const handle = async (item: PlannedItem) => {
      account(item, tally, failures, o.dryRun ? plan : null);
      if (item.action === 'unchanged' && !item.isFolder && !o.dryRun && o.afterUpload.kind !== 'keep') {
        const failed = await afterUpload(o.afterUpload, { absPath: item.absPath, sourcePath: item.path, size: item.size, mtimeMs: item.mtimeMs }, o.followSymlinks ? stat : undefined);
        if (failed) {
          tally.afterUploadFailed++;
          failures.add({ path: item.path, stage: 'after-upload', code: failed.code, reason: failed.message });
        }
      }
      if (!('task' in item)) return;
      if (o.dryRun) {
        // The dry-run gate: count what would have been done, do none of it.
        if (item.task.kind === 'file') {
          wouldUpload.files++;
          wouldUpload.bytes += item.task.size;
        } else wouldUpload.folders++;
        return;
      }
      await threads.dispatch(item.task);
    };

    try {
      for await (const batch of batches(walk({ ...o, signal: stop.drain.signal }), WALK_BATCH)) {
        for (const item of await planBatch(batch, planner)) {
          if (stop.requested) break;
          await handle(item);
        }
        if (stop.requested) break;
        hooks.onProgress?.(tally);
        if (failures.due) await failures.save();
      }
    } catch (err) {
      if (!stop.requested) throw err;
    }

    if (stop.reason === 'SIGINT' || stop.reason === 'SIGTERM' || stop.reason === 'lock-lost') {
      // A signal: files in flight get the grace period, then their uploads are aborted.
      const finished = await Promise.race([threads.drained().then(() => true), sleep(o.graceMs, false, { ref: false })]);
      if (!finished) threads.abortInFlight();
    }
    await threads.drained();
    hooks.onProgress?.(tally);
    await failures.save();

    const status: RunStatus =
      stop.reason === 'SIGINT' || stop.reason === 'SIGTERM' || stop.reason === 'lock-lost' ? 'interrupted' : stop.reason === 'max-runtime' ? 'partial' : stop.reason === 'fatal-error' || tally.failed > 0 || tally.afterUploadFailed > 0 ? 'failed' : 'succeeded';
    // Every thread closes its connection before the run is marked finished, so "finished" means
    // nothing of this run still holds the database.
    const teardown = await threads.teardown();
    if (runId !== null) await db.run((c) => finishRun(c, runId, status, tally.counts()));
    return {
      runId,
      status,
      dryRun: o.dryRun,
      root: o.root,
      target: target.describe,
      ...tally.counts(),
      durationMs: Date.now() - started,
      failures: failures.listed,
      failuresTotal: failures.total,
      ...(o.dryRun ? { plan, wouldUpload } : {}),
      ...(stop.reason ? { stopReason: stop.reason } : {}),
      ...(teardown ? { threads: teardown } : {}),
    };
  } finally {
    await releasers.releaseAll((name, err) => log.warn({ step: name, err: toErrorData(err).message }, 'clean-up step failed'));
  }
}

/**
 * One run at a time per import root and target: an advisory lock kept for the whole run (see
 * RunLockKeeper). A run row still 'running' when the lock is free belongs to a run that died, and
 * is marked interrupted.
 */
async function startRun(o: ImportOptions, key: DriveKey, database: DatabaseTarget, stop: StopSignal, releasers: Releasers, log: Logger, db: ThreadClient): Promise<number> {
  const lock = new RunLockKeeper(database, runLockKey(o.root, key.driveId, key.remoteRoot), log, (why) => {
    log.error(`stopping: ${why}`);
    stop.stop('lock-lost');
  });
  releasers.add('run lock', () => lock.close());
  const got = await lock.acquire(o.waitLockMs, stop.drain.signal);
  if (got !== true) {
    const holder = got ? `run ${got.runId ?? '?'} on ${got.host ?? '?'} (pid ${got.pid ?? '?'}) since ${got.startedAt?.toISOString() ?? '?'}` : 'another session';
    throw fatal('run-locked', `${o.root} is being imported to this target by ${holder}; try later or pass --wait-lock`);
  }
  const dead = await markDeadRunsInterrupted(lock.client, o.root, key.driveId, key.remoteRoot);
  if (dead.length > 0) log.warn({ runs: dead }, 'marked runs that died unfinished as interrupted');
  const runId = (await db.run((c) => insertRun(c, { importRoot: o.root, ...key, options: recordedOptions(o), host: os.hostname(), pid: process.pid, version: VERSION }))).id;
  await lock.bind(runId);
  return runId;
}

function account(item: PlannedItem, tally: Tally, failures: FailureLog, plan: PlanEntry[] | null): void {
  switch (item.action) {
    case 'skip':
      if (!item.isDir) {
        tally.seen++;
        tally.skipped++;
      } else if (item.code === 'unreadable') {
        // Its files should have been imported and were not: a failure, not a rule.
        tally.failed++;
      }
      failures.add({ path: item.path, stage: 'walk', code: item.code, reason: item.reason });
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
      plan?.push({
        path: item.task.sourcePath,
        action: item.task.expectLocalHash ? 'checksum' : item.action,
        bytes: item.task.size,
        ...(item.task.expectLocalHash ? { reason: 'same size and mtime; uploaded only if the content hash differs' } : {}),
      });
  }
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

/** What the run row keeps of the options: never a secret. */
function recordedOptions(o: ImportOptions): Record<string, unknown> {
  const t = o.target;
  return {
    threads: o.threads,
    tasksPerThread: o.tasksPerThread,
    target: t.kind === 'local' ? { kind: 'local', root: t.root } : { kind: 'onedrive', driveId: t.driveId, remoteRoot: t.remoteRoot, graphUrl: t.graphUrl },
    corp: o.corp ?? null,
    include: o.include,
    exclude: o.exclude,
    hidden: o.hidden,
    followSymlinks: o.followSymlinks,
    maxSize: o.maxSize ?? null,
    minAgeMs: o.minAgeMs,
    checksum: o.checksum,
    afterUpload: o.afterUpload,
    maxRuntimeMs: o.maxRuntimeMs,
  };
}
