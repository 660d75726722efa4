import { insertFailures, type FailureRow } from '../ledger/statements.js';
import type { LedgerConnection } from '../ledger/connection.js';
import type { FileFailure } from '../types.js';

const FLUSH_EVERY = 200;
/** The JSON summary lists this many; the ledger keeps them all. */
const SUMMARY_LIMIT = 1000;

/** Every skipped or failed file of a run: kept for the summary and written to vmb_import_failures. */
export class FailureLog {
  readonly listed: FileFailure[] = [];
  total = 0;
  private unsaved: FailureRow[] = [];

  constructor(
    private readonly ledger: LedgerConnection,
    private readonly runId: number | null,
  ) {}

  add(f: FileFailure): void {
    this.total++;
    if (this.listed.length < SUMMARY_LIMIT) this.listed.push(f);
    if (this.runId !== null) this.unsaved.push({ sourcePath: f.path, stage: f.stage, code: f.code, message: f.reason });
  }

  get due(): boolean {
    return this.unsaved.length >= FLUSH_EVERY;
  }

  async save(): Promise<void> {
    if (this.runId === null || this.unsaved.length === 0) return;
    const rows = this.unsaved.splice(0);
    await this.ledger.run((c) => insertFailures(c, this.runId!, rows));
  }
}
