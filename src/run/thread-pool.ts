import { BroadcastChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { RunFlags } from '../limits/run-flags.js';
import type { Logger } from '../log/logger.js';
import type { ChannelMessage, Task, TaskResult, ThreadClosed, WorkerConfig } from '../types.js';

/**
 * Piscina loads the task module with require() first and falls back to import(). With Node 20's
 * require(esm), a failed first attempt left the module half-loaded and the fallback then died
 * with "Unexpected status of a module that is imported again after being required" in some
 * threads; turning require(esm) off in the workers makes require fail cleanly before loading.
 */
const WORKER_EXEC_ARGV = [
  ...(process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module') ? ['--no-experimental-require-module'] : []),
  // Setting execArgv replaces the parent's flags; profiling ones are passed on so that
  // `node --cpu-prof bin/vmb-import.js` profiles the worker threads too. (Per-process flags such
  // as --max-old-space-size are refused by Worker and must not be passed.)
  ...process.execArgv.filter((flag) => /^--(cpu|heap)-prof/.test(flag)),
];

const TASK_MODULE = fileURLToPath(new URL('../../tasks/import-file.js', import.meta.url));

export interface ThreadPoolOptions {
  threads: number;
  /** Piscina's concurrentTasksPerWorker: a thread's uploads plus the batch waiting for its commit. */
  heldPerThread: number;
  config: WorkerConfig;
  log: Logger;
}

/** What `--json` reports of the teardown (`threads` in the summary). */
export interface TeardownReport {
  threads: number;
  closed: number;
  withDatabase: number;
  connects: number;
}

/**
 * The Piscina pool of one run, with the settings this design depends on (see
 * docs/runtime-facts.md): a fixed number of threads that never retire mid-run, idle threads
 * that keep their event loop running, and a teardown that lets every thread close its own
 * connections before the pool is destroyed.
 */
export class ThreadPool {
  private readonly pool: Piscina;
  private readonly channel: BroadcastChannel;
  private readonly runFlags: RunFlags;
  private readonly closed = new Map<number, ThreadClosed>();
  private closedChanged: (() => void) | null = null;

  constructor(private readonly options: ThreadPoolOptions) {
    this.pool = new Piscina({
      filename: TASK_MODULE,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: options.heldPerThread,
      atomics: 'disabled',
      workerData: options.config,
      execArgv: WORKER_EXEC_ARGV,
    });
    // An uncaught error inside a thread surfaces here; unheard, it would crash the whole run.
    // Piscina replaces the thread; the tasks it was running reject and are reported as failures.
    this.pool.on('error', (err: Error) => options.log.error({ err: err.message }, 'a worker thread failed and was replaced'));
    this.pool.on('message', (m: ThreadClosed) => {
      if (m?.type === 'vmb:closed') {
        this.closed.set(m.threadId, m);
        this.closedChanged?.();
      }
    });
    this.channel = new BroadcastChannel(options.config.channel);
    this.runFlags = new RunFlags(options.config.runFlags);
  }

  run(task: Task): Promise<TaskResult> {
    return this.pool.run(task) as Promise<TaskResult>;
  }

  /** Every thread, now or started later, begins no more uploads (first signal, --max-runtime). */
  stopStarting(): void {
    this.runFlags.drain();
  }

  /**
   * Every thread stops its uploads in flight where they can be continued from (--max-runtime, grace
   * over): a session upload after its current fragment, keeping its session; a simple upload at once.
   */
  haltInFlight(): void {
    this.runFlags.halt();
    this.broadcast({ type: 'halt' });
  }

  /** Every thread aborts its uploads in flight at once (a second signal). */
  abortInFlight(): void {
    this.runFlags.abort();
    this.broadcast({ type: 'abort' });
  }

  /**
   * Every thread closes its own database client (a Terminate message, not a dropped socket) and
   * HTTP agents, and acks; only then is the pool destroyed. The close is re-broadcast until every
   * live thread has answered, so a thread that started late still hears it.
   */
  async teardown(timeoutMs = 15_000): Promise<TeardownReport> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const live = this.pool.threads.map((t) => t.threadId);
      if (live.length > 0 && live.every((id) => this.closed.has(id))) break;
      this.broadcast({ type: 'close' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        this.closedChanged = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.closedChanged = null;
    }
    const acks = [...this.closed.values()];
    const report = {
      threads: this.pool.threads.length,
      closed: acks.length,
      withDatabase: acks.filter((a) => a.hadLedger).length,
      connects: acks.reduce((n, a) => n + a.connects, 0),
    };
    if (report.closed < report.threads) this.options.log.warn(report, 'some worker threads did not confirm closing their connections');
    // For profiling a run (`--log-level debug`): how long tasks ran (upload through commit) and how
    // long they queued in Piscina before a thread took them.
    const { runTime, waitTime } = this.pool.histogram;
    this.options.log.debug({ taskMs: percentiles(runTime), queuedMs: percentiles(waitTime) }, 'worker pool timings (Piscina histogram)');
    this.channel.close();
    await this.pool.destroy();
    return report;
  }

  private broadcast(message: ChannelMessage): void {
    this.channel.postMessage(message);
  }
}

function percentiles(h: Piscina['histogram']['runTime']) {
  const ms = (n: number) => Math.round(n * 100) / 100;
  return { p50: ms(h.p50), p90: ms(h.p90), p99: ms(h.p99), max: ms(h.max), mean: ms(h.mean) };
}
