import { toErrorData } from '../errors/vmb-error.js';
import { Slots } from '../limits/slots.js';
import type { Logger } from '../log/logger.js';
import type { Task, TaskResult, WorkerConfig } from '../types.js';
import { ThreadPool, type TeardownReport } from './thread-pool.js';

export interface DispatcherOptions {
  threads: number;
  config: WorkerConfig;
  log: Logger;
  /** Every task's result, in the order they come; the task is in flight until this settles. */
  onResult: (task: Task, result: TaskResult) => Promise<void> | void;
}

/**
 * Hands tasks to the thread pool with backpressure (a bounded number in flight, so the walk waits
 * instead of queueing a million tasks). The pool is started on the first task: a run with nothing
 * to upload starts no thread and opens no connection.
 *
 * A task stays in flight until its row is committed, but it needs an upload slot of its thread only
 * until its upload is done. So each thread holds its tasks-per-thread plus one full batch of
 * uploaded files waiting for their commit: uploads never wait for the database, and the batches
 * grow to what the commit rate calls for.
 */
export class Dispatcher {
  private pool: ThreadPool | null = null;
  private readonly slots: Slots;
  /** Tasks one thread holds at once: its uploads plus a batch waiting for its commit. */
  private readonly heldPerThread: number;

  constructor(private readonly o: DispatcherOptions) {
    this.heldPerThread = o.config.tasksPerThread + o.config.batchSize;
    this.slots = new Slots(o.threads * this.heldPerThread);
  }

  async dispatch(task: Task): Promise<void> {
    await this.slots.acquire();
    this.pool ??= new ThreadPool({ threads: this.o.threads, heldPerThread: this.heldPerThread, config: this.o.config, log: this.o.log });
    this.pool
      .run(task)
      .then(
        (r) => this.o.onResult(task, r),
        (err) => this.o.onResult(task, workerCrash(task, err)),
      )
      .catch((err: unknown) => this.o.log.error({ path: task.sourcePath, err: toErrorData(err).message }, 'booking a task result failed'))
      .finally(() => this.slots.release());
  }

  /** Resolves when every dispatched task has reported. */
  drained(): Promise<void> {
    return this.slots.idle();
  }

  /** Files dispatched but not yet uploading are handed back unstarted; uploads running finish. */
  stopStarting(): void {
    this.pool?.stopStarting();
  }

  /**
   * Uploads still running stop where they can be continued from, their sessions kept (their rows
   * are not written); rows already committing finish.
   */
  haltInFlight(): void {
    this.pool?.haltInFlight();
  }

  /** Uploads still running are aborted at once (their rows are not written); rows already committing finish. */
  abortInFlight(): void {
    this.pool?.abortInFlight();
  }

  /** Every thread closes its connections and the pool is gone; later calls do nothing. */
  async teardown(): Promise<TeardownReport | undefined> {
    const pool = this.pool;
    this.pool = null;
    return pool?.teardown();
  }
}

function workerCrash(task: Task, err: unknown): TaskResult {
  return { status: 'failed', stage: 'upload', code: 'worker-error', kind: 'retryable', message: `worker thread failed while handling ${task.sourcePath}: ${toErrorData(err).message}`, retries: 0, foldersCreated: 0 };
}
