import { BroadcastChannel, parentPort, threadId } from 'node:worker_threads';
import { LedgerWriter } from '../db/ledger-writer.js';
import { ThreadClient } from '../db/thread-client.js';
import { Slots } from '../limits/slots.js';
import { createTarget } from '../targets/create-target.js';
import type { Target } from '../targets/target.js';
import { FolderChain } from './folder-chain.js';
import type { ChannelMessage, ThreadClosed, WorkerConfig } from './protocol.js';

/**
 * What one worker thread owns: its database connection, its drive client, its group-commit buffer
 * and its folder cache. Built on the thread's first task and closed when the main thread broadcasts
 * `close`; nothing here is ever handed to another thread.
 */
export class ThreadContext {
  readonly db: ThreadClient;
  readonly ledger: LedgerWriter;
  readonly folders: FolderChain;
  /** Tasks of this thread currently running, uploading or waiting for their commit. */
  active = 0;
  /** Held from a task's first look at its file until its upload is verified, not while it commits. */
  readonly uploads: Slots;
  /** The run is stopping: uploads that have not begun are not begun (first signal, --max-runtime). */
  draining = false;
  /** Aborted when the main thread gives up on in-flight uploads (second signal, grace period over). */
  readonly abort = new AbortController();
  private targetInstance: Target | null = null;

  constructor(readonly config: WorkerConfig) {
    this.uploads = new Slots(config.uploadsPerThread);
    this.db = new ThreadClient(config.database, { applicationName: config.applicationName });
    this.ledger = new LedgerWriter(this.db, {
      maxBatch: config.maxBatch,
      maxDelayMs: config.maxBatchDelayMs,
      activeTasks: () => this.active,
    });
    this.folders = new FolderChain(this.db, () => this.target, this.driveKey, config.runId);
  }

  get target(): Target {
    this.targetInstance ??= createTarget(this.config.target);
    return this.targetInstance;
  }

  get driveKey() {
    const t = this.target;
    return { driveId: t.driveId, remoteRoot: t.remoteRoot };
  }

  async close(): Promise<ThreadClosed> {
    const hadDatabase = this.db.connects > 0;
    await Promise.allSettled([this.db.close(), this.targetInstance?.close()]);
    return { type: 'vmb:closed', threadId, hadDatabase, connects: this.db.connects };
  }
}

let context: ThreadContext | null = null;
let channel: BroadcastChannel | null = null;

/** This thread's context, created on first use. */
export function threadContext(config: WorkerConfig): ThreadContext {
  if (!context) {
    context = new ThreadContext(config);
  }
  return context;
}

/**
 * Piscina has no per-thread teardown hook and terminates threads abruptly, which would drop the
 * pg socket without a Terminate message. So every thread listens on a BroadcastChannel from the
 * moment its module loads (Piscina preloads it at thread start, and `atomics: 'disabled'` keeps an
 * idle thread's event loop running to hear it); on `close` it closes what it opened and acks
 * through parentPort. The main thread destroys the pool only after every thread has acked.
 */
export function listenForTeardown(config: WorkerConfig): void {
  if (channel) return;
  channel = new BroadcastChannel(config.channel);
  channel.onmessage = (event: unknown) => {
    const message = (event as { data: ChannelMessage }).data;
    if (message.type === 'drain' && context) {
      context.draining = true;
    } else if (message.type === 'abort' && context) {
      context.draining = true;
      context.abort.abort();
    } else if (message.type === 'close') {
      void closeThread();
    }
  };
}

async function closeThread(): Promise<void> {
  const report: ThreadClosed = context ? await context.close() : { type: 'vmb:closed', threadId, hadDatabase: false, connects: 0 };
  context = null;
  parentPort?.postMessage(report);
  channel?.close();
  channel = null;
}
