import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { fatal, skip } from '../errors.js';
import { copyLine } from './copy-text.js';
import { copyIntoStageSql, createStageTable, mergeStagedFiles } from './statements.js';
import type { ThreadClient } from './thread-client.js';

/** One file's ledger row, as the worker thread hands it over after a finished upload. */
export interface FileRow {
  corpIndex: number;
  driveId: string;
  remoteRoot: string;
  itemId: string;
  parentItemId: string;
  name: string;
  remotePath: string;
  size: number;
  contentHash: string | null;
  localHash: string;
  sourcePath: string;
  sourceSize: number;
  sourceMtimeMs: number;
  runId: number;
}

interface Pending {
  row: FileRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface LedgerWriterOptions {
  /** Largest batch merged in one transaction. */
  maxBatch: number;
  /** How long a row may wait for company before its batch is flushed anyway. */
  maxDelayMs: number;
  /** Tasks of this thread that are still running; when all of them wait here, flush at once. */
  activeTasks: () => number;
}

/**
 * Group commit for one thread: rows of finished uploads are buffered, COPYed into a per-connection
 * staging table and merged in one transaction. `record()` resolves only after that transaction has
 * committed, so a task that reports "done" has its row durably in the ledger.
 *
 * A batch is committed when it is full, when every task of the thread is waiting for it (nothing
 * more will come soon), or when its first row has waited `maxDelayMs`. One batch commits at a time;
 * rows that finish meanwhile form the next one, so the batch size follows the upload rate.
 */
export class LedgerWriter {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private overdue = false;
  private flushing: Promise<void> | null = null;
  private committing = 0;
  private readonly staged = new WeakSet<pg.Client>();

  constructor(
    private readonly db: ThreadClient,
    private readonly options: LedgerWriterOptions,
  ) {}

  record(row: FileRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ row, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length === 0) return;
    if (!this.flushing && this.due()) {
      this.startFlush();
      return;
    }
    if (!this.overdue) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.overdue = true;
        this.schedule();
      }, this.options.maxDelayMs);
    }
  }

  private due(): boolean {
    const waiting = this.pending.length + this.committing;
    return this.overdue || this.pending.length >= this.options.maxBatch || waiting >= this.options.activeTasks();
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.overdue = false;
    const batch = this.pending.splice(0, this.options.maxBatch);
    this.committing = batch.length;
    this.flushing = this.flush(batch).finally(() => {
      this.flushing = null;
      this.committing = 0;
      this.schedule();
    });
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      await this.db.run((client) => this.mergeBatch(client, batch.map((p) => p.row)));
      for (const p of batch) p.resolve();
    } catch (err) {
      if (!isUniqueViolation(err) || batch.length === 1) {
        for (const p of batch) p.reject(asRowError(err));
        return;
      }
      // One row clashes with another path's item (e.g. two names that differ only in case map to
      // one OneDrive item): merge row by row so only that file fails.
      for (const p of batch) await this.flush([p]);
    }
  }

  private async mergeBatch(client: pg.Client, rows: FileRow[]): Promise<void> {
    if (!this.staged.has(client)) {
      await createStageTable(client);
      this.staged.add(client);
    }
    await client.query('BEGIN');
    // One chunk for the whole batch: pg-copy-streams makes two socket writes of every chunk.
    await pipeline(Readable.from([rows.map(stageLine).join('')]), client.query(copyStreams.from(copyIntoStageSql())));
    const counts = await mergeStagedFiles(client, [...new Set(rows.map((r) => r.parentItemId))]);
    if (counts.merged !== rows.length || counts.parentsBumped !== counts.parents) {
      await client.query('ROLLBACK');
      throw fatal('ledger-inconsistent', `merge touched ${counts.merged} of ${rows.length} rows and ${counts.parentsBumped} of ${counts.parents} parent folders; rolled back`);
    }
    await client.query('COMMIT');
  }
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505';
}

function asRowError(err: unknown): unknown {
  if (!isUniqueViolation(err)) return err;
  return skip('remote-item-conflict', `the drive item is already recorded for another path (names that differ only in case?): ${(err as Error).message}`);
}

function stageLine(r: FileRow): string {
  return copyLine([
    r.corpIndex, r.driveId, r.remoteRoot, r.itemId, r.parentItemId, r.name, r.remotePath,
    r.size, r.contentHash, r.localHash, r.sourcePath, r.sourceSize, new Date(r.sourceMtimeMs).toISOString(), r.runId,
  ]);
}
