/**
 * The emulator's counters in one JSON document, for tests and for a benchmark in another process:
 * `GET /_emulator/stats` (no token, outside the Graph prefix, never charged, delayed, faulted or
 * recorded) answers what `emulator.stats()` returns.
 */
import type { BudgetStats } from './budget.js';
import type { DeltaCounts } from './delta.js';
import type { FaultCounts } from './faults.js';
import type { SessionTotals } from './upload-sessions.js';

export interface RequestCounts {
  /** Requests received (the stats endpoint's own excluded). */
  received: number;
  /** Received and not yet answered or closed. */
  inProgress: number;
  /** Answers by status; "0" for requests that got none (dropped, stalled, client gone). */
  byStatus: Record<string, number>;
}

export interface EmulatorStats {
  requests: RequestCounts;
  budget: BudgetStats;
  faults: FaultCounts;
  sessions: SessionTotals;
  delta: DeltaCounts;
  drive: { files: number; folders: number; bytes: number };
}

export class RequestCounter {
  private readonly counts: RequestCounts = { received: 0, inProgress: 0, byStatus: {} };

  received(): void {
    this.counts.received++;
    this.counts.inProgress++;
  }

  closed(status: number): void {
    this.counts.inProgress--;
    this.counts.byStatus[status] = (this.counts.byStatus[status] ?? 0) + 1;
  }

  snapshot(): RequestCounts {
    return { ...this.counts, byStatus: { ...this.counts.byStatus } };
  }
}
