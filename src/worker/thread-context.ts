import { BroadcastChannel, parentPort, threadId } from 'node:worker_threads';
import { createDrive } from '../drives/create-drive.js';
import type { Drive } from '../drives/drive.js';
import { LedgerConnection } from '../ledger/connection.js';
import { mergeFileRows, type FileRow } from '../ledger/file-rows.js';
import { Batcher } from '../limits/batcher.js';
import { RunFlags } from '../limits/run-flags.js';
import { Slots } from '../limits/slots.js';
import type { ChannelMessage, ThreadClosed, WorkerConfig } from '../types.js';
import { FolderChain } from './folder-chain.js';

/**
 * How long a finished upload's row may wait for company before its batch is committed anyway.
 * Each commit costs the server a few milliseconds whatever its size (begin, COPY, planning the
 * merge, WAL flush). Measured on the benchmark's 20,000 small files: 60 ms instead of 20 halved
 * the transactions and cut the server's CPU by a quarter, at the same throughput.
 */
const BATCH_DELAY_MS = 60;

/**
 * What one worker thread owns: its ledger connection, its drive, its group commit and its folder
 * cache. Built on the thread's first task and closed when the main thread broadcasts `close`;
 * nothing here is ever handed to another thread.
 */
export class ThreadContext {
  readonly ledger: LedgerConnection;
  /** Group commit: rows of finished uploads, merged a batch per transaction. */
  readonly commits: Batcher<FileRow>;
  readonly folders: FolderChain;
  /** Tasks of this thread currently running, uploading or waiting for their commit. */
  active = 0;
  /** Held from a task's first look at its file until its upload is verified, not while it commits. */
  readonly uploads: Slots;
  /** The run's stop state, shared with the main thread. */
  readonly runFlags: RunFlags;
  /**
   * Aborted at the run's hard bound (--max-runtime, grace over): uploads in flight stop where they
   * can be continued from, keeping their sessions.
   */
  readonly halt = new AbortController();
  /** Aborted when the main thread gives up on in-flight uploads at once (a second signal). */
  readonly abort = new AbortController();
  private driveInstance: Drive | null = null;

  constructor(readonly config: WorkerConfig) {
    this.uploads = new Slots(config.tasksPerThread);
    this.runFlags = new RunFlags(config.runFlags);
    // A thread that starts after the bound (or the abort) applies it to itself at once.
    if (this.runFlags.halting) this.halt.abort();
    if (this.runFlags.aborting) this.abort.abort();
    this.ledger = new LedgerConnection(config.ledger, { applicationName: config.applicationName });
    this.commits = new Batcher({
      maxSize: config.batchSize,
      maxDelayMs: BATCH_DELAY_MS,
      flush: (rows) => mergeFileRows(this.ledger, rows),
      // When every task of the thread waits for its commit, nothing more will come soon.
      nothingMoreSoon: (waiting) => waiting >= this.active,
    });
    this.folders = new FolderChain(this.ledger, () => this.drive, this.driveKey, config.runId);
  }

  get drive(): Drive {
    this.driveInstance ??= createDrive(this.config.drive);
    return this.driveInstance;
  }

  get driveKey() {
    const d = this.drive;
    return { driveId: d.driveId, remoteRoot: d.remoteRoot };
  }

  async close(): Promise<ThreadClosed> {
    const hadLedger = this.ledger.connects > 0;
    await Promise.allSettled([this.ledger.close(), this.driveInstance?.close()]);
    return { type: 'vmb:closed', threadId, hadLedger, connects: this.ledger.connects };
  }
}

let context: ThreadContext | null = null;
let channel: BroadcastChannel | null = null;

/** This thread's context, created on first use. */
export function threadContext(config: WorkerConfig): ThreadContext {
  context ??= new ThreadContext(config);
  return context;
}

/**
 * Piscina has no per-thread teardown hook and terminates threads abruptly, which would drop the
 * pg socket without a Terminate message (docs/runtime-facts.md). So every thread listens on a
 * BroadcastChannel from the moment its module loads (Piscina preloads it at thread start, and
 * `atomics: 'disabled'` keeps an idle thread's event loop running to hear it); on `close` it
 * closes what it opened and acks through parentPort. The main thread destroys the pool only after
 * every thread has acked.
 */
export function listenForTeardown(config: WorkerConfig): void {
  if (channel) return;
  channel = new BroadcastChannel(config.channel);
  channel.onmessage = (event: unknown) => {
    const message = (event as { data: ChannelMessage }).data;
    if (message.type === 'halt' && context) {
      context.halt.abort();
    } else if (message.type === 'abort' && context) {
      context.halt.abort();
      context.abort.abort();
    } else if (message.type === 'close') {
      void closeThread();
    }
  };
}

async function closeThread(): Promise<void> {
  const report: ThreadClosed = context ? await context.close() : { type: 'vmb:closed', threadId, hadLedger: false, connects: 0 };
  context = null;
  parentPort?.postMessage(report);
  channel?.close();
  channel = null;
}
