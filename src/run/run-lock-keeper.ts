import { setTimeout as sleep } from 'node:timers/promises';
import type { LedgerAddress } from '../types.js';
import { connectLockClient, findLockHolder, recordRunLock, tryLockRun, waitLockRun, type LockHolder, type LockSession } from '../ledger/run-lock.js';
import type { Logger } from '../log/logger.js';

/** How long a run tries to win its lock back after the lock's connection broke. */
const REACQUIRE_FOR_MS = 60_000;

/**
 * Holds a run's advisory lock on a connection of its own. The lock lives and dies with that
 * session, so when the connection breaks (a server restart, a killed backend) the keeper
 * reconnects and takes the lock again; only if another run got it first, or the server stays away,
 * is the run told to stop.
 */
export class RunLockKeeper {
  private session: LockSession | null = null;
  private runId: number | null = null;
  private closed = false;

  constructor(
    private readonly address: LedgerAddress,
    private readonly key: bigint,
    private readonly log: Logger,
    private readonly onLost: (why: string) => void,
  ) {}

  /** True when the lock is ours; otherwise the holder, for the message. */
  async acquire(waitMs: number, signal: AbortSignal): Promise<true | LockHolder | null> {
    const session = await this.connect();
    const locked = waitMs > 0 ? await waitLockRun(session.client, this.key, waitMs, signal) : await tryLockRun(session.client, this.key);
    if (locked) return true;
    return findLockHolder(session.client, this.key);
  }

  get client() {
    return this.session!.client;
  }

  /** Ties the run row to the session holding the lock, so other runs can name the holder. */
  async bind(runId: number): Promise<void> {
    this.runId = runId;
    await recordRunLock(this.session!.client, runId, this.key);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.session?.close();
  }

  private async connect(): Promise<LockSession> {
    const session = await connectLockClient(this.address, 'vmb-import/lock', (err) => void this.reacquire(err));
    this.session = session;
    return session;
  }

  private async reacquire(cause: Error): Promise<void> {
    if (this.closed) return;
    this.log.warn({ err: cause.message }, 'lost the connection holding the run lock; taking the lock again');
    const deadline = Date.now() + REACQUIRE_FOR_MS;
    for (let attempt = 1; Date.now() < deadline && !this.closed; attempt++) {
      try {
        const session = await this.connect();
        if (await tryLockRun(session.client, this.key)) {
          if (this.runId !== null) await recordRunLock(session.client, this.runId, this.key);
          this.log.warn('run lock taken again');
          return;
        }
        this.onLost('another run took the lock while its connection was down');
        return;
      } catch {
        await sleep(Math.min(5_000, 250 * 2 ** attempt));
      }
    }
    if (!this.closed) this.onLost('the lock could not be taken again within 60 s');
  }
}
