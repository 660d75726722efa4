import type { Logger } from '../log/logger.js';
import { toErrorData } from '../errors.js';
import type { FileTask, FolderTask, TaskResult, WorkerConfig } from '../worker/protocol.js';
import type { FailureLog } from './failure-log.js';
import { Slots } from '../limits/slots.js';
import type { Tally } from './tally.js';
import { ThreadPool, type TeardownReport } from './thread-pool.js';

export interface DispatcherOptions {
  threads: number;
  config: WorkerConfig;
  log: Logger;
  tally: Tally;
  failures: FailureLog;
  /** A failure of the fatal kind (credentials refused, quota full): the run should stop. */
  onFatal: (code: string, message: string) => void;
}

/**
 * Hands tasks to the thread pool with backpressure (a bounded number in flight, so the walk waits
 * instead of queueing a million tasks) and books every result. The pool is started on the first
 * task: a run with nothing to upload starts no thread and opens no connection.
 *
 * A task stays in flight until its row is committed, but it needs an upload slot of its thread only
 * until its upload is done. So each thread holds its uploads-per-thread plus one full batch of
 * uploaded files waiting for their commit: uploads never wait for the database, and the batches
 * grow to what the commit rate calls for.
 */
export class Dispatcher {
  private pool: ThreadPool | null = null;
  private readonly slots: Slots;
  private readonly tasksPerThread: number;

  constructor(private readonly o: DispatcherOptions) {
    this.tasksPerThread = o.config.uploadsPerThread + o.config.maxBatch;
    this.slots = new Slots(o.threads * this.tasksPerThread);
  }

  async dispatch(task: FileTask | FolderTask): Promise<void> {
    await this.slots.acquire();
    this.pool ??= new ThreadPool({ threads: this.o.threads, tasksPerThread: this.tasksPerThread, config: this.o.config, log: this.o.log });
    this.o.tally.inFlight++;
    this.pool
      .run(task)
      .then(
        (r) => this.book(task, r),
        (err) => this.book(task, workerCrash(task, err)),
      )
      .finally(() => {
        this.o.tally.inFlight--;
        this.slots.release();
      });
  }

  /** Resolves when every dispatched task has reported. */
  drained(): Promise<void> {
    return this.slots.idle();
  }

  /** Files dispatched but not yet uploading are handed back unstarted; uploads running finish. */
  stopStarting(): void {
    this.pool?.stopStarting();
  }

  /** Uploads still running are aborted (their rows are not written); rows already committing finish. */
  abortInFlight(): void {
    this.pool?.abortInFlight();
  }

  async teardown(): Promise<TeardownReport | undefined> {
    const pool = this.pool;
    this.pool = null;
    return pool?.teardown();
  }

  private book(task: FileTask | FolderTask, r: TaskResult): void {
    const { tally } = this.o;
    tally.foldersCreated += r.foldersCreated;
    tally.retries += r.retries;
    if (r.status === 'folder' || r.status === 'not-started') return;
    if (r.status === 'uploaded' || r.status === 'unchanged') {
      if (r.status === 'uploaded') {
        tally.uploaded++;
        tally.bytesUploaded += r.bytes;
      } else tally.unchanged++;
      if (r.afterUpload) {
        tally.afterUploadFailed++;
        this.o.failures.add({ path: task.sourcePath, stage: 'after-upload', code: r.afterUpload.code, reason: r.afterUpload.message });
        this.o.log.error({ path: task.sourcePath, stage: 'after-upload', code: r.afterUpload.code }, r.afterUpload.message);
      }
      return;
    }
    if (task.kind === 'file') tally.failed++;
    if (r.kind === 'fatal') this.o.onFatal(r.code, r.message);
    this.o.failures.add({ path: task.sourcePath, stage: r.stage, code: r.code, reason: r.message });
    this.o.log.error({ path: task.sourcePath, stage: r.stage, code: r.code }, r.message);
  }
}

function workerCrash(task: FileTask | FolderTask, err: unknown): TaskResult {
  return { status: 'failed', stage: 'upload', code: 'worker-error', kind: 'retryable', message: `worker thread failed while handling ${task.sourcePath}: ${toErrorData(err).message}`, retries: 0, foldersCreated: 0 };
}
