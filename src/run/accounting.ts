import type { Logger } from '../log/logger.js';
import type { FileFailure, Task, TaskResult } from '../types.js';
import type { FailureLog } from './failure-log.js';
import type { PlannedItem } from './planner.js';

export type PlanAction = 'upload-new' | 'upload-changed' | 'checksum' | 'unchanged' | 'skip' | 'defer' | 'create-folder';

/** One line of a dry run's plan. */
export interface PlanEntry {
  path: string;
  action: PlanAction;
  reason?: string;
  bytes?: number;
}

/** Running counts of one run. File counts only; folders have their own. */
export class Tally {
  seen = 0;
  uploaded = 0;
  unchanged = 0;
  skipped = 0;
  failed = 0;
  deferred = 0;
  bytesUploaded = 0;
  /** Files and bytes dispatched for upload so far (what the progress bar counts towards). */
  toUpload = 0;
  bytesToUpload = 0;
  foldersCreated = 0;
  retries = 0;
  /** Files imported whose --after-upload action failed (the file stays where it was). */
  afterUploadFailed = 0;
  /** Uploaded files that continued an upload session (or partial copy) an earlier run left. */
  resumed = 0;
  /** Bytes of those files that an earlier run had sent, not sent again. */
  bytesNotResent = 0;
  /**
   * Files dispatched but left for the next run, not failed: not begun because the run was stopping,
   * or stopped mid-upload by its bound (their upload sessions kept).
   */
  leftForNextRun = 0;
  /** Of `deferred`: files not done when the drive's throttling ended the run (--throttle-timeout). */
  deferredThrottled = 0;
  /** While the drive holds every request: until when (epoch ms), for the progress display. */
  heldUntil: number | null = null;

  counts() {
    return {
      seen: this.seen,
      uploaded: this.uploaded,
      unchanged: this.unchanged,
      skipped: this.skipped,
      failed: this.failed,
      deferred: this.deferred,
      bytesUploaded: this.bytesUploaded,
      foldersCreated: this.foldersCreated,
      retries: this.retries,
      afterUploadFailed: this.afterUploadFailed,
      resumed: this.resumed,
      bytesNotResent: this.bytesNotResent,
      leftForNextRun: this.leftForNextRun,
    };
  }
}

export type RunCounts = ReturnType<Tally['counts']>;

/**
 * The one place a run's counts and failures are kept (after rclone's fs/accounting): what the
 * planner decided, what each task came back with, what after-upload did. Everything the summary,
 * the progress display and the run row say comes from here.
 */
export class RunAccount {
  readonly tally = new Tally();
  /** Dry run only: every file and folder that would be acted on. */
  readonly plan: PlanEntry[] | null;
  readonly wouldUpload = { files: 0, bytes: 0, folders: 0 };
  /** Set when throttling ends the run: the files it leaves are deferred (reason `throttled`), not just left. */
  deferringThrottled = false;

  constructor(
    readonly failures: FailureLog,
    private readonly log: Logger,
    dryRun: boolean,
  ) {
    this.plan = dryRun ? [] : null;
  }

  /** What the planner decided for one walked entry. */
  planned(item: PlannedItem): void {
    const { tally, plan } = this;
    switch (item.action) {
      case 'skip':
        if (!item.isDir) {
          tally.seen++;
          tally.skipped++;
        } else if (item.code === 'unreadable') {
          // Its files should have been imported and were not: a failure, not a rule.
          tally.failed++;
        }
        this.failures.add({ path: item.path, stage: 'walk', code: item.code, reason: item.reason });
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

  /** A dry run's task: counted as what would have been done, and nothing is done. */
  wouldDispatch(task: Task): void {
    if (task.kind === 'file') {
      this.wouldUpload.files++;
      this.wouldUpload.bytes += task.size;
    } else this.wouldUpload.folders++;
  }

  /** What a worker thread reported for one task. */
  finished(task: Task, r: TaskResult): void {
    const { tally } = this;
    tally.foldersCreated += r.foldersCreated;
    tally.retries += r.retries;
    switch (r.status) {
      case 'uploaded':
        tally.uploaded++;
        tally.bytesUploaded += r.bytes;
        if (r.resumedBytes > 0) {
          tally.resumed++;
          tally.bytesNotResent += r.resumedBytes;
        }
        return;
      case 'unchanged':
        tally.unchanged++;
        return;
      case 'not-started':
      case 'stopped':
        if (task.kind !== 'file') return;
        if (this.deferringThrottled) {
          tally.deferred++;
          tally.deferredThrottled++;
        } else tally.leftForNextRun++;
        return;
      case 'folder':
        return;
      case 'failed':
        if (task.kind === 'file') tally.failed++;
        this.failed({ path: task.sourcePath, stage: r.stage, code: r.code, reason: r.message }, r.stack);
    }
  }

  /** A file imported whose --after-upload action failed: it stays where it was. */
  afterUploadFailed(failure: FileFailure): void {
    this.tally.afterUploadFailed++;
    this.failed(failure);
  }

  private failed(f: FileFailure, stack?: string): void {
    this.failures.add(f);
    this.log.error({ path: f.path, stage: f.stage, code: f.code, ...(stack ? { stack } : {}) }, f.reason);
  }
}
