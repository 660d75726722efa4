import cliProgress from 'cli-progress';
import type { Tally } from '../run/accounting.js';

export interface Progress {
  update(t: Tally): void;
  stop(): void;
}

const MiB = 1024 * 1024;

/** ", held for 12s by throttling" while the drive holds every request. */
function held(t: Tally): string {
  const left = t.heldUntil === null ? 0 : t.heldUntil - Date.now();
  return left > 0 ? `, held for ${Math.ceil(left / 1000)}s by throttling` : '';
}

/**
 * A live bar when stderr is a terminal; under cron (no terminal) a plain line every few seconds,
 * with no control characters. Both on stderr: stdout carries only the summary.
 */
export function createProgress(mode: 'bar' | 'lines' | 'off', intervalMs = 5000): Progress {
  if (mode === 'off') return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  if (mode === 'lines') {
    let last = 0;
    let latest: Tally | null = null;
    const print = (t: Tally) => {
      const secs = (Date.now() - started) / 1000;
      process.stderr.write(
        `progress: ${t.uploaded}/${t.toUpload} files uploaded, ${(t.bytesUploaded / MiB).toFixed(1)}/${(t.bytesToUpload / MiB).toFixed(1)} MiB, ` +
          `${t.unchanged} unchanged, ${t.skipped} skipped, ${t.deferred} deferred, ${t.failed} failed, ${(t.uploaded / Math.max(secs, 0.001)).toFixed(1)} files/s${held(t)}\n`,
      );
      last = Date.now();
    };
    const timer = setInterval(() => latest && Date.now() - last >= intervalMs && print(latest), intervalMs);
    timer.unref();
    return {
      update: (t) => {
        latest = t;
      },
      stop: () => clearInterval(timer),
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {percentage}% | {value}/{total} files | {mib}/{totalMib} MiB | {rate} files/s | ETA {eta_formatted} | {unchanged} unchanged, {failed} failed{held}',
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(0, 0, { mib: '0.0', totalMib: '0.0', rate: '0', unchanged: 0, failed: 0, held: '' });
  return {
    update: (t) => {
      const secs = (Date.now() - started) / 1000;
      bar.setTotal(t.toUpload);
      bar.update(t.uploaded + t.failed, {
        mib: (t.bytesUploaded / MiB).toFixed(1),
        totalMib: (t.bytesToUpload / MiB).toFixed(1),
        rate: (t.uploaded / Math.max(secs, 0.001)).toFixed(1),
        unchanged: t.unchanged,
        failed: t.failed,
        held: held(t),
      });
    },
    stop: () => bar.stop(),
  };
}
