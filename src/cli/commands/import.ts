import { EXIT_CODES } from '../../errors/exit-codes.js';
import { importOptions } from '../../run/import-options.js';
import { runImport, type RunSummary } from '../../run/import-run.js';
import { StopControl } from '../../run/stop-control.js';
import type { RunMetrics } from '../../metrics/series.js';
import { commandLogger, type CommandContext } from '../command.js';
import { withMetricsFile, type MetricsEnd } from '../metrics.js';
import { createProgress } from '../progress.js';
import { forwardSignals } from '../signals.js';
import { formatSummary } from '../summary.js';

/** `vmb-import <dir>`: one run, its summary on stdout, its outcome as the exit code. */
export function importCommand(argv: Readonly<Record<string, unknown>>, ctx: CommandContext): Promise<number> {
  return withMetricsFile('import', argv, ctx, () => importRun(argv, ctx));
}

async function importRun(argv: Readonly<Record<string, unknown>>, ctx: CommandContext): Promise<MetricsEnd> {
  const o = importOptions(argv, ctx.env);
  const log = commandLogger(o, ctx);
  const progress = createProgress(!o.progress || o.quiet ? 'off' : process.stderr.isTTY ? 'bar' : 'lines');
  const stop = new StopControl(o.graceMs);
  const unforward = forwardSignals(stop);
  let summary: RunSummary;
  try {
    summary = await runImport(o, {
      log,
      stop,
      onProgress: (t) => progress.update(t),
      onStart: ({ runId, embeddedDataDir }) => {
        if (embeddedDataDir) log.info(`ledger: embedded PostgreSQL in ${embeddedDataDir}`);
        log.info({ runId, root: o.root, threads: o.threads, dryRun: o.dryRun }, o.dryRun ? 'dry run started' : 'import started');
      },
    });
  } finally {
    progress.stop();
    unforward();
  }
  await ctx.out(o.json ? JSON.stringify(summary) + '\n' : formatSummary(summary));
  return { code: exitCodeFor(summary), metrics: summary.dryRun ? null : runMetrics(summary) };
}

function runMetrics(s: RunSummary): RunMetrics {
  return {
    status: s.status,
    durationMs: s.durationMs,
    files: { uploaded: s.uploaded, unchanged: s.unchanged, skipped: s.skipped, failed: s.failed, deferred: s.deferred, left_for_next_run: s.leftForNextRun },
    bytesUploaded: s.bytesUploaded,
    throttling: s.throttling,
  };
}

export function exitCodeFor(s: RunSummary): number {
  // A run stopped by a bug is not "some files failed": cron must be able to tell them apart.
  if (s.stopCode === 'internal-error') return EXIT_CODES.software.code;
  if (s.status === 'interrupted') return (s.stopReason === 'SIGTERM' ? EXIT_CODES.sigterm : EXIT_CODES.sigint).code;
  if (s.failed > 0 || s.afterUploadFailed > 0 || s.status === 'failed') return EXIT_CODES.someFilesFailed.code;
  return (s.status === 'partial' ? EXIT_CODES.partial : EXIT_CODES.ok).code;
}
