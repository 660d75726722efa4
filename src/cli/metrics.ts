import { VmbError } from '../errors/vmb-error.js';
import { writeMetricsFile } from '../metrics/metrics-file.js';
import type { MetricsCommand, RunMetrics } from '../metrics/series.js';
import { METRICS_FILE_OPTION } from '../options/common.js';
import type { CommandContext } from './command.js';

/** How a command's run ended: its exit code and what the metrics file records of it. */
export interface MetricsEnd {
  code: number;
  /** null: nothing to record (a dry run did nothing, so it neither ran nor succeeded as monitoring means it). */
  metrics: RunMetrics | null;
}

/**
 * Runs a command's body and records its end in `--metrics-file` when one is given: the body's own
 * account when it returns, a failed run when it throws (a configuration error, a bug), so
 * monitoring sees every run. The option is read on its own before the body reads the others, so
 * that a bad other option is recorded too. A file that cannot be written costs one warning, never
 * the exit code.
 */
export async function withMetricsFile(command: MetricsCommand, argv: Readonly<Record<string, unknown>>, ctx: CommandContext, body: () => Promise<MetricsEnd>): Promise<number> {
  const file = METRICS_FILE_OPTION.parse({}, argv, ctx.env);
  const started = Date.now();
  let end: MetricsEnd;
  try {
    end = await body();
  } catch (err) {
    // A run that found the lock held did not run: the run holding it records its own end, and one
    // that never ends shows as the last success growing old.
    const ran = !(err instanceof VmbError && err.code === 'run-locked');
    if (file !== undefined && ran) await record(file, command, ctx, { status: 'failed', durationMs: Date.now() - started }, false);
    throw err;
  }
  if (file !== undefined && end.metrics !== null) await record(file, command, ctx, end.metrics, end.code === 0);
  return end.code;
}

async function record(file: string, command: MetricsCommand, ctx: CommandContext, metrics: RunMetrics, success: boolean): Promise<void> {
  try {
    await writeMetricsFile(file, { ...metrics, command, success, endedAt: Date.now() });
  } catch (err) {
    const line = `could not write the metrics file ${file}: ${(err as Error).message}`;
    // Before the command has its logger (its options did not parse) the warning goes straight to stderr.
    if (ctx.log) ctx.log.warn({ file }, line);
    else process.stderr.write(`vmb-import: warning: ${line}\n`);
  }
}
