import type { RunStatus, StopReason } from '../types.js';
import { isInterruption } from './stop-control.js';

/** How a run ended, from why it stopped (null: the walk ran to its end) and what failed. */
export function statusFor(reason: StopReason | null, failed: { files: number; afterUpload: number }): RunStatus {
  if (isInterruption(reason)) return 'interrupted';
  if (reason === 'max-runtime' || reason === 'throttle-timeout') return 'partial';
  if (reason === 'fatal-error' || reason === 'graph-blocked' || failed.files > 0 || failed.afterUpload > 0) return 'failed';
  return 'succeeded';
}
