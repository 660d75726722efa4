import type { Stage } from '../worker/protocol.js';

export interface Failure {
  path: string;
  stage: Stage;
  code: string;
  reason: string;
}

export type PlanAction = 'upload-new' | 'upload-changed' | 'checksum' | 'unchanged' | 'skip' | 'defer' | 'create-folder';

export interface PlanEntry {
  path: string;
  action: PlanAction;
  reason?: string;
  bytes?: number;
}

/** Running counts of one run. File counts only; folders have their own. */
export class Tally {
  seen = 0;
  uploaded = 0;
  unchanged = 0;
  skipped = 0;
  failed = 0;
  deferred = 0;
  bytesUploaded = 0;
  /** Files and bytes dispatched for upload so far (what the progress bar counts towards). */
  toUpload = 0;
  bytesToUpload = 0;
  foldersCreated = 0;
  retries = 0;
  /** Files imported whose --after-upload action failed (the file stays where it was). */
  afterUploadFailed = 0;
  inFlight = 0;

  counts() {
    return {
      seen: this.seen,
      uploaded: this.uploaded,
      unchanged: this.unchanged,
      skipped: this.skipped,
      failed: this.failed,
      deferred: this.deferred,
      bytesUploaded: this.bytesUploaded,
      foldersCreated: this.foldersCreated,
      retries: this.retries,
      afterUploadFailed: this.afterUploadFailed,
    };
  }
}
