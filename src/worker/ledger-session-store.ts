import type { UploadSessionStore } from '../drives/drive.js';
import type { LedgerConnection } from '../ledger/connection.js';
import { deleteUploadSession, findUploadSession, saveUploadSession, updateUploadSession, type UploadSessionKey } from '../ledger/statements.js';
import type { SavedUploadSession } from '../types.js';

/** What the session row says about its file besides the session itself. */
export interface SessionFile extends UploadSessionKey {
  sourcePath: string;
  parentItemId: string;
  name: string;
  runId: number;
}

/**
 * One file's upload session kept across runs, in `vmb_upload_sessions` through the thread's own
 * ledger connection (outside the group commit: the row must exist before the first fragment is
 * sent). The row is deleted by the group commit that records the file (`mayExist` tells it to),
 * or by `forget` when the session is abandoned.
 */
export class LedgerSessionStore implements UploadSessionStore {
  /** A row for this path may be in the table: one an earlier run left, or one written here. */
  mayExist: boolean;

  constructor(
    private readonly ledger: LedgerConnection,
    private readonly file: SessionFile,
    /** The planner found a session an earlier run left for this path. */
    savedByEarlierRun: boolean,
  ) {
    this.mayExist = savedByEarlierRun;
  }

  /** No query at all unless the planner saw a row for this path at the start of the run. */
  async load(): Promise<SavedUploadSession | null> {
    if (!this.mayExist) return null;
    return this.ledger.run((c) => findUploadSession(c, this.file));
  }

  async save(session: SavedUploadSession): Promise<void> {
    this.mayExist = true;
    await this.ledger.run((c) => saveUploadSession(c, { ...this.file, ...session }));
  }

  async progress(uploadUrl: string, bytesConfirmed: number, expiresAt: number): Promise<void> {
    await this.ledger.run((c) => updateUploadSession(c, this.file, uploadUrl, { bytesConfirmed, expiresAt, runId: this.file.runId }));
  }

  async forget(): Promise<void> {
    if (!this.mayExist) return;
    await this.ledger.run((c) => deleteUploadSession(c, this.file));
    this.mayExist = false;
  }
}
