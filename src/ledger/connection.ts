import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryable } from '../errors/vmb-error.js';
import type { LedgerAddress } from '../types.js';
import { clientConfig } from './address.js';
import { describePgError, isConnectionError, isRetryInPlace, refusedWrite } from './pg-errors.js';

export interface LedgerConnectionOptions {
  applicationName: string;
  /** Attempts for one unit of work across reconnects and in-place retries. */
  attempts?: number;
  /** Every transaction read-only, enforced by the server (dry runs, the history commands). */
  readOnly?: boolean;
  /** Told once per physical connection opened; lets tests and the main thread count them. */
  onConnect?: () => void;
}

/**
 * The one ledger connection of one thread (each worker thread has its own, and so has the main
 * thread for its bookkeeping): opened lazily on the first use, reused for every
 * later use, dropped and replaced when it breaks, and closed with a Terminate message by `close()`.
 *
 * Work runs one unit at a time (`run`): several tasks share the thread, and a unit that is a
 * transaction must not have another task's statement slip into it.
 */
export class LedgerConnection {
  private client: pg.Client | null = null;
  private opening: Promise<pg.Client> | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Connections opened over this thread's life, including replacements. */
  connects = 0;

  constructor(
    private readonly address: LedgerAddress,
    private readonly options: LedgerConnectionOptions,
  ) {}

  get isOpen(): boolean {
    return this.client !== null;
  }

  /**
   * Run `work` alone on this thread's connection. A broken connection is discarded and `work` runs
   * again on a new one, as do deadlocks, serialization failures and statement timeouts after a
   * ROLLBACK; `work` must therefore be idempotent.
   */
  run<T>(work: (client: pg.Client) => Promise<T>, attempts = this.options.attempts ?? 10): Promise<T> {
    const result = this.tail.then(() => this.withRetry(work, attempts));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Deadlocks, serialization failures and statement timeouts are retried `attempts` times. A lost
   * or unreachable server is retried until OUTAGE_MS has passed since the first failure, so a
   * server restart of several seconds costs time, not data. With `attempts` 1 (the start-up check)
   * nothing is retried.
   */
  private async withRetry<T>(work: (client: pg.Client) => Promise<T>, attempts: number): Promise<T> {
    let lastError: unknown;
    let outageSince: number | null = null;
    const outageOver = () => attempts === 1 || (outageSince !== null && Date.now() - outageSince > OUTAGE_MS);
    for (let attempt = 1, inPlace = 0; ; attempt++) {
      if (this.closed) throw retryable('db-closed', 'the thread is shutting down; the database write was not made');
      let client: pg.Client;
      try {
        client = await this.connection();
      } catch (err) {
        lastError = err;
        outageSince ??= Date.now();
        if (outageOver()) throw attempts === 1 ? err : gaveUp(lastError);
        await backoff(attempt);
        continue;
      }
      try {
        return await work(client);
      } catch (err) {
        lastError = err;
        if (isConnectionError(err)) {
          this.discard(client);
          outageSince ??= Date.now();
          if (outageOver()) throw gaveUp(lastError);
        } else if (isRetryInPlace(err)) {
          await client.query('ROLLBACK').catch(() => this.discard(client));
          if (++inPlace >= attempts) throw gaveUp(lastError);
        } else {
          await rollbackIfInTransaction(client).catch(() => this.discard(client));
          throw refusedWrite(err, this.address.display) ?? err;
        }
        await backoff(attempt);
      }
    }
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.opening ??= this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async open(): Promise<pg.Client> {
    const config = clientConfig(this.address, this.options.applicationName);
    if (this.options.readOnly) config.options = '-c default_transaction_read_only=on';
    const client = new pg.Client(config);
    // A dead backend makes the client emit 'error' while no query is running (often twice). Without
    // a listener that would kill the thread; with it, the client is dropped and the next unit of
    // work reconnects.
    client.on('error', () => this.discard(client));
    try {
      await client.connect();
    } catch (err) {
      client.end().catch(() => undefined);
      throw err;
    }
    this.connects++;
    this.client = client;
    this.options.onConnect?.();
    return client;
  }

  private discard(client: pg.Client): void {
    if (this.client === client) this.client = null;
    client.end().catch(() => undefined);
  }

  /** Close the connection cleanly (Terminate message) after the work already queued. */
  async close(): Promise<void> {
    await this.tail;
    this.closed = true;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }
}

async function rollbackIfInTransaction(client: pg.Client): Promise<void> {
  // node-postgres does not expose the transaction status; a ROLLBACK outside a transaction only
  // draws a harmless warning.
  await client.query('ROLLBACK');
}

/** How long a lost database is waited for before a write gives up. */
const OUTAGE_MS = 60_000;

function gaveUp(lastError: unknown) {
  return retryable('db-unavailable', `database write failed after retrying: ${describePgError(lastError)}`, { cause: lastError });
}

function backoff(attempt: number): Promise<void> {
  const capMs = Math.min(5_000, 100 * 2 ** (attempt - 1));
  return sleep(Math.random() * capMs);
}
