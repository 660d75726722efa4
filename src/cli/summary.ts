import type { RunSummary } from '../run/import-run.js';

const MiB = 1024 * 1024;

/** The short human summary printed at the end of a run (the JSON summary is the object itself). */
export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  const secs = (s.durationMs / 1000).toFixed(1);
  const head = s.dryRun ? 'dry run' : `run ${s.runId}`;
  lines.push(`${head} ${s.status} in ${secs}s: ${s.seen} files seen, ${s.uploaded} uploaded (${(s.bytesUploaded / MiB).toFixed(1)} MiB), ${s.unchanged} unchanged, ${s.skipped} skipped, ${s.deferred} deferred, ${s.failed} failed; ${s.foldersCreated} folders created`);
  if (s.resumed > 0) lines.push(`${s.resumed} uploads continued where an earlier run left them (${(s.bytesNotResent / MiB).toFixed(1)} MiB not sent again)`);
  const t = s.throttling;
  if (t.throttledRequests > 0 || t.heldMs > 0) {
    lines.push(`throttled: ${t.throttledRequests} requests, held ${(t.heldMs / 1000).toFixed(1)}s, ${t.resourceUnitsPerMinute} resource units a minute${t.deferred > 0 ? `; ${t.deferred} files deferred to the next run (throttled)` : ''}`);
  }
  if (s.leftForNextRun > 0) lines.push(`${s.leftForNextRun} files left for the next run (not started, or stopped mid-upload with their upload session kept)`);
  if (s.wouldUpload) {
    lines.push(`would upload ${s.wouldUpload.files} files (${(s.wouldUpload.bytes / MiB).toFixed(1)} MiB) and create ${s.wouldUpload.folders} folders; nothing was uploaded or written`);
  }
  if (s.stopReason) lines.push(`stopped early: ${s.stopReason}${s.stopCode ? ` (${s.stopCode})` : ''}`);
  const shown = s.failures.slice(0, 20);
  for (const f of shown) lines.push(`  ${f.stage === 'walk' ? 'skipped' : 'failed'} ${f.path}: [${f.code}] ${f.reason}`);
  if (s.failures.length > shown.length) lines.push(`  … and ${s.failures.length - shown.length} more (vmb-import failures --run ${s.runId ?? ''})`);
  return lines.join('\n') + '\n';
}
