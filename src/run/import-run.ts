import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { prepareDrive } from '../drives/backends.js';
import type { PreparedDrive } from '../drives/backend.js';
import { fatal, toErrorData } from '../errors/vmb-error.js';
import { refusedWrite } from '../ledger/pg-errors.js';
import { markDeadRunsInterrupted, runLockKey } from '../ledger/run-lock.js';
import { SESSION_MAX_AGE_MS } from '../drives/onedrive/upload-session.js';
import { findLearnedRate, findLedgerEntries, findResumableUploadSessions, finishRun, insertRun } from '../ledger/statements.js';
import { chunks } from '../limits/chunks.js';
import { createRunFlagsBuffer } from '../limits/run-flags.js';
import type { Logger } from '../log/logger.js';
import type { Code, FileFailure, RunStatus, StopReason, Task, TaskResult, ThrottlingTally } from '../types.js';
import { VERSION } from '../version.js';
import { checkRoot } from '../walk/root.js';
import { walk } from '../walk/walk.js';
import { RunAccount, type PlanEntry, type Tally } from './accounting.js';
import { AfterUploadStep } from './after-upload.js';
import { CorpLayout } from './corp-layout.js';
import { Dispatcher } from './dispatcher.js';
import { FailureLog } from './failure-log.js';
import { recordedOptions, workerOptions, type ImportOptions } from './import-options.js';
import { openLedger, type OpenLedger } from './open-ledger.js';
import { planBatch, type PlannedItem, type PlannerOptions } from './planner.js';
import { Releasers } from './releasers.js';
import { RunLockKeeper } from './run-lock-keeper.js';
import { statusFor } from './run-status.js';
import { StopControl } from './stop-control.js';
import type { TeardownReport } from './thread-pool.js';
import { TrafficWatch } from './traffic-watch.js';

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
  /** Uploaded files that continued an upload session (or partial copy) an earlier run left. */
  resumed: number;
  /** Bytes of those that an earlier run had sent, not sent again. */
  bytesNotResent: number;
  /** Dispatched files not begun because the run was stopping, or stopped mid-upload by its bound: not failed. */
  leftForNextRun: number;
  foldersCreated: number;
  retries: number;
  afterUploadFailed: number;
  durationMs: number;
  /** The first 1,000; `failuresTotal` counts them all (vmb-import failures lists them). */
  failures: FileFailure[];
  failuresTotal: number;
  /** Dry run: every file and folder that would be acted on. */
  plan?: PlanEntry[];
  /** Dry run: what would be uploaded. */
  wouldUpload?: { files: number; bytes: number; folders: number };
  stopReason?: StopReason;
  /** With stopReason `fatal-error`: the code of the failure that stopped the run. */
  stopCode?: Code;
  /** What the drive's throttling cost the run (all zero for the local drive). */
  throttling: ThrottlingTally & { deferred: number };
  threads?: TeardownReport;
}

export interface RunHooks {
  log: Logger;
  /** The run's stopping; the caller passes signals on to it. */
  stop: StopControl;
  /** Called often with the live counts (progress display). */
  onProgress?: (tally: Tally) => void;
  /** Called when the run starts walking. */
  onStart?: (info: { runId: number | null; embeddedDataDir?: string }) => void;
}

const WALK_BATCH = 500;
/** A pace learned longer ago than this says little about the tenant's budget now. */
const LEARNED_RATE_MAX_AGE_MS = 24 * 3600_000;

/** What the open phase has set up for the rest of the run. */
interface Opened {
  drive: PreparedDrive;
  ledger: OpenLedger;
  runId: number | null;
  account: RunAccount;
  dispatcher: Dispatcher;
  /** Target paths with an upload session an earlier run left open. */
  savedSessions: ReadonlySet<string>;
  traffic: TrafficWatch | null;
}

/** One import, start to end. */
export function runImport(o: ImportOptions, hooks: RunHooks): Promise<RunSummary> {
  return new ImportRun(o, hooks).execute();
}

/**
 * A run in four phases: open (root, drive, ledger, run lock and row, threads on demand) → plan
 * and dispatch (walk, plan a batch against the ledger, account, dispatch with backpressure) →
 * drain (wait for every task; the stop control bounds it) → finish (status). Everything opened
 * registers its release, and the releasers run last-in first-out whatever happens, so the worker
 * threads close their connections before the run row is finished, the lock released and the
 * ledger connection closed.
 */
class ImportRun {
  private readonly started = Date.now();
  private readonly releasers = new Releasers();
  private readonly afterUpload: AfterUploadStep;
  private status: RunStatus = 'failed';
  private stopCode: Code | undefined;
  private teardown: TeardownReport | undefined;

  constructor(
    private readonly o: ImportOptions,
    private readonly hooks: RunHooks,
  ) {
    this.afterUpload = new AfterUploadStep(o.afterUpload, o.followSymlinks);
  }

  async execute(): Promise<RunSummary> {
    let opened: Opened | undefined;
    try {
      opened = await this.open();
      await this.planAndDispatch(opened);
      await this.drain(opened);
      this.status = statusFor(this.hooks.stop.reason, { files: opened.account.tally.failed, afterUpload: opened.account.tally.afterUploadFailed });
    } finally {
      await this.releasers.releaseAll((name, err) => this.hooks.log.warn({ step: name, err: toErrorData(err).message }, 'clean-up step failed'));
    }
    return this.summary(opened!);
  }

  private async open(): Promise<Opened> {
    const { o, hooks, releasers } = this;
    const { log, stop } = hooks;
    releasers.add('stop control', () => stop.dispose());
    await checkRoot(o.root);
    const drive = await prepareDrive(o.drive, { threads: o.threads, env: o.env, probe: !o.dryRun });
    const ledger = await openLedger({ databaseUrl: o.databaseUrl, dataDir: o.dataDir, env: o.env }, { readOnly: o.dryRun, applicationName: `vmb-import/${o.dryRun ? 'dry-run' : 'main'}` }, releasers, log);
    if (!ledger.schemaReady) {
      log.warn('the ledger schema is not installed or not up to date; a dry run does not migrate, so every file is planned as new');
    }
    const runId = o.dryRun ? null : await this.startRun(drive, ledger);
    // Read once: this run's own sessions are made by its tasks, one task per path.
    const savedSessions = runId === null ? new Set<string>() : await ledger.connection.run((c) => findResumableUploadSessions(c, drive.key, SESSION_MAX_AGE_MS));
    const account = new RunAccount(new FailureLog(ledger.connection, runId), log, o.dryRun);
    const traffic = drive.traffic && !o.dryRun ? new TrafficWatch(drive.traffic, log, (verdict, why) => this.throttledOut(account, verdict, why), (until) => this.held(account, until)) : null;
    if (runId !== null) {
      // Registered after the lock, so released before it: the row is finished while the lock is held.
      releasers.add('run row', async () => {
        await account.failures.save();
        const { throttledRequests, heldMs, learnedRatePerMinute } = this.throttling(traffic);
        const throttling = { throttledRequests, heldMs, deferredThrottled: account.tally.deferredThrottled, learnedRatePerMinute };
        await ledger.connection.run((c) => finishRun(c, runId, this.status, { ...account.tally.counts(), ...throttling }));
      });
    }
    const dispatcher = new Dispatcher({
      threads: o.threads,
      log,
      config: {
        runId: runId ?? 0,
        ledger: ledger.address,
        drive: drive.config,
        applicationName: 'vmb-import/worker',
        ...workerOptions(o),
        runFlags: createRunFlagsBuffer(),
        channel: `vmb-import:${randomUUID()}`,
      },
      onResult: (task, result) => this.took(account, task, result),
    });
    // Every thread closes its connection before the run row is finished, so "finished" means
    // nothing of this run still holds the database.
    releasers.add('worker threads', async () => {
      this.teardown = await dispatcher.teardown();
    });
    stop.drain.signal.addEventListener('abort', () => dispatcher.stopStarting(), { once: true });
    stop.halt.signal.addEventListener('abort', () => dispatcher.haltInFlight(), { once: true });
    stop.force.signal.addEventListener('abort', () => dispatcher.abortInFlight(), { once: true });
    if (traffic) {
      if (runId !== null) {
        const learned = await ledger.connection.run((c) => findLearnedRate(c, drive.key.driveId, LEARNED_RATE_MAX_AGE_MS));
        if (learned !== null) drive.traffic!.seed(learned);
      }
      // After the threads' halt flag is up, so a request the governor lets go of reads as stopped.
      stop.halt.signal.addEventListener('abort', () => drive.traffic!.release(), { once: true });
      traffic.start();
      releasers.add('traffic watch', () => traffic.stop());
    }
    if (o.maxRuntimeMs !== undefined) {
      const timer = setTimeout(() => stop.request('max-runtime'), o.maxRuntimeMs);
      releasers.add('max-runtime timer', () => clearTimeout(timer));
    }
    hooks.onStart?.({ runId, embeddedDataDir: ledger.embeddedDataDir });
    return { drive, ledger, runId, account, dispatcher, savedSessions, traffic };
  }

  /** The drive's throttling ends the run: a stretch past --throttle-timeout, or a blocked app. */
  private throttledOut(account: RunAccount, verdict: 'throttle-timeout' | 'graph-blocked', why: string): void {
    const { log, stop } = this.hooks;
    if (stop.requested) return;
    if (verdict === 'graph-blocked') {
      this.stopCode = 'graph-blocked';
      log.error({ code: 'graph-blocked' }, `stopping the run: ${why}`);
    } else {
      account.deferringThrottled = true;
      log.warn({ code: 'throttled' }, `stopping the run: ${why}`);
    }
    stop.request(verdict);
  }

  /** Keeps the progress display's "held" current while nothing else moves. */
  private held(account: RunAccount, until: number | null): void {
    account.tally.heldUntil = until;
    this.hooks.onProgress?.(account.tally);
  }

  private throttling(traffic: TrafficWatch | null): ThrottlingTally {
    return traffic?.tally(Date.now() - this.started) ?? { throttledRequests: 0, heldMs: 0, resourceUnitsPerMinute: 0, learnedRatePerMinute: 0 };
  }

  /**
   * One run at a time per import root and drive: an advisory lock kept for the whole run (see
   * RunLockKeeper). A run row still 'running' when the lock is free belongs to a run that died, and
   * is marked interrupted.
   */
  private async startRun(drive: PreparedDrive, ledger: OpenLedger): Promise<number> {
    const { o, releasers } = this;
    const { log, stop } = this.hooks;
    const { key } = drive;
    const lock = new RunLockKeeper(ledger.address, runLockKey(o.root, key.driveId, key.remoteRoot), log, (why) => {
      log.error(`stopping: ${why}`);
      stop.request('lock-lost');
    });
    releasers.add('run lock', () => lock.close());
    const got = await lock.acquire(o.waitLockMs ?? 0, stop.drain.signal);
    if (got !== true) {
      const holder = got ? `run ${got.runId ?? '?'} on ${got.host ?? '?'} (pid ${got.pid ?? '?'}) since ${got.startedAt?.toISOString() ?? '?'}` : 'another session';
      throw fatal('run-locked', `${o.root} is being imported to this target by ${holder}; try later or pass --wait-lock`);
    }
    // The lock's own connection is not a LedgerConnection: its refusals are named here.
    const refused = (err: unknown) => {
      throw refusedWrite(err, ledger.address.display) ?? err;
    };
    const dead = await markDeadRunsInterrupted(lock.client, o.root, key.driveId, key.remoteRoot).catch(refused);
    if (dead.length > 0) log.warn({ runs: dead }, 'marked runs that died unfinished as interrupted');
    const run = { importRoot: o.root, ...key, options: recordedOptions(o), host: os.hostname(), pid: process.pid, version: VERSION };
    const runId = (await ledger.connection.run((c) => insertRun(c, run))).id;
    await lock.bind(runId).catch(refused);
    return runId;
  }

  /** Walk, plan each batch against the ledger, account every item and dispatch its task, until the walk ends or the run stops. */
  private async planAndDispatch({ drive, ledger, account, dispatcher, savedSessions }: Opened): Promise<void> {
    const { o, hooks } = this;
    const { stop } = hooks;
    const planner: PlannerOptions = {
      layout: new CorpLayout(drive.namer, o.corp),
      lookup: (paths) => (ledger.schemaReady ? ledger.connection.run((c) => findLedgerEntries(c, drive.key, paths)) : Promise.resolve(new Map())),
      checkPath: drive.checkPath,
      minAgeMs: o.minAgeMs,
      checksum: o.checksum,
      savedSessions,
      now: Date.now,
    };
    const entries = walk({ root: o.root, include: o.include, exclude: o.exclude, hidden: o.hidden, followSymlinks: o.followSymlinks, maxSize: o.maxSize, signal: stop.drain.signal });
    try {
      for await (const batch of chunks(entries, WALK_BATCH)) {
        for (const item of await planBatch(batch, planner)) {
          if (stop.requested) return;
          await this.take(item, account, dispatcher);
        }
        hooks.onProgress?.(account.tally);
        if (account.failures.due) await account.failures.save();
      }
    } catch (err) {
      // Stopping aborts the walk with the stop's reason; anything else is the walk failing.
      if (!stop.requested) throw err;
    }
  }

  /** One planned item: accounted, then its after-upload (unchanged files) or its task, unless this is a dry run. */
  private async take(item: PlannedItem, account: RunAccount, dispatcher: Dispatcher): Promise<void> {
    account.planned(item);
    if (this.o.dryRun) {
      if ('task' in item) account.wouldDispatch(item.task);
      return;
    }
    if (item.action === 'unchanged' && !item.isFolder && this.afterUpload.acts) {
      await this.afterUploaded(account, { absPath: item.absPath, sourcePath: item.path, size: item.size, mtimeMs: item.mtimeMs });
    }
    if ('task' in item) await dispatcher.dispatch(item.task);
  }

  /** A task's result: accounted, a fatal failure stops the run, an imported file gets its after-upload. */
  private async took(account: RunAccount, task: Task, result: TaskResult): Promise<void> {
    account.finished(task, result);
    if (result.status === 'failed' && result.kind === 'fatal') {
      if (!this.hooks.stop.requested) {
        this.stopCode = result.code;
        this.hooks.log.error({ code: result.code }, `stopping the run: ${result.message}`);
      }
      this.hooks.stop.request('fatal-error');
    }
    if ((result.status === 'uploaded' || result.status === 'unchanged') && task.kind === 'file' && this.afterUpload.acts) {
      await this.afterUploaded(account, { absPath: task.absPath, sourcePath: task.sourcePath, ...result.source });
    }
  }

  private async afterUploaded(account: RunAccount, file: Parameters<AfterUploadStep['apply']>[0]): Promise<void> {
    const failure = await this.afterUpload.apply(file);
    if (failure) account.afterUploadFailed(failure);
  }

  /** Every dispatched task reports; the stop control's bound (--max-runtime, the grace) bounds the uploads. */
  private async drain({ account, dispatcher }: Opened): Promise<void> {
    await dispatcher.drained();
    this.hooks.onProgress?.(account.tally);
  }

  private summary({ account, runId, drive, traffic }: Opened): RunSummary {
    const { o } = this;
    const { stop } = this.hooks;
    return {
      runId,
      status: this.status,
      dryRun: o.dryRun,
      root: o.root,
      target: drive.describe,
      ...account.tally.counts(),
      durationMs: Date.now() - this.started,
      failures: account.failures.listed,
      failuresTotal: account.failures.total,
      ...(account.plan ? { plan: account.plan, wouldUpload: account.wouldUpload } : {}),
      ...(stop.reason ? { stopReason: stop.reason } : {}),
      ...(this.stopCode ? { stopCode: this.stopCode } : {}),
      throttling: { ...this.throttling(traffic), deferred: account.tally.deferredThrottled },
      ...(this.teardown ? { threads: this.teardown } : {}),
    };
  }
}
