import type { CommandModule } from 'yargs';
import { checkOptions, CHECK_OPTIONS } from '../../check/check-options.js';
import { runCheck } from '../../check/check-run.js';
import { DRIFT_CLASS_NAMES } from '../../errors/drift-classes.js';
import { EXIT_CODES } from '../../errors/exit-codes.js';
import { DRIVE_OPTIONS } from '../../run/import-options.js';
import type { CheckSummary, Difference } from '../../types.js';
import { commandLogger, type CommandContext } from '../command.js';
import { withMetricsFile, type MetricsEnd } from '../metrics.js';
import { declareOptions } from '../yargs-options.js';

/** Differences the text report shows; --json has them all. */
const SHOWN = 50;

/** Parses only; main.ts dispatches to `checkCommand`. */
export const checkCommandModule: CommandModule = {
  command: 'check [dir]',
  describe: 'Compare the ledger with the drive (and with the source tree <dir>, if given); --fix brings the ledger in step',
  builder: (y) =>
    declareOptions(declareOptions(y, CHECK_OPTIONS), DRIVE_OPTIONS).positional('dir', {
      type: 'string',
      describe: 'The import directory, to report rows whose source file is gone (missing-local)',
    }),
  handler: () => undefined,
};

/** `vmb-import check`: the summary on stdout; 0 clean (or all mended by --fix), 1 drift. */
export function checkCommand(argv: Readonly<Record<string, unknown>>, ctx: CommandContext): Promise<number> {
  return withMetricsFile('check', argv, ctx, () => check(argv, ctx));
}

async function check(argv: Readonly<Record<string, unknown>>, ctx: CommandContext): Promise<MetricsEnd> {
  const o = checkOptions(argv, ctx.env);
  const log = commandLogger(o, ctx);
  const summary = await runCheck(o, log);
  await ctx.out(o.json ? JSON.stringify(summary) + '\n' : formatCheckSummary(summary));
  const code = summary.status === 'drift' ? EXIT_CODES.drift.code : EXIT_CODES.ok.code;
  // The check ran to its end whatever it found; a success (exit 0) is a ledger found, or made, clean.
  return { code, metrics: o.dryRun ? null : { status: 'succeeded', durationMs: summary.durationMs, drift: summary.remaining ?? summary.counts } };
}

/** The short human report: the listing, the counts per class, the first differences, what --fix did. */
export function formatCheckSummary(s: CheckSummary): string {
  const lines: string[] = [];
  const head = s.runId === null ? 'check (dry run)' : `check ${s.runId}`;
  const listing =
    s.listing.kind === 'walk' ? 'the folder walked' : `${s.listing.kind} delta, ${s.listing.pages} page${s.listing.pages === 1 ? '' : 's'}${s.listing.resyncs > 0 ? `, started again ${s.listing.resyncs}× (410)` : ''}`;
  lines.push(`${head} ${s.status} in ${(s.durationMs / 1000).toFixed(1)}s: ${s.rows} rows against ${s.items} items on ${s.target} (${listing})`);
  const found = DRIFT_CLASS_NAMES.filter((c) => s.counts[c] > 0);
  lines.push(found.length === 0 ? 'no differences' : found.map((c) => `${s.counts[c]} ${c}`).join(', '));
  for (const d of s.differences.slice(0, SHOWN)) lines.push(`  ${d.class} ${printable(d.path)}${detail(d)}`);
  if (s.differences.length > SHOWN) lines.push(`  … and ${s.differences.length - SHOWN} more (--json lists them all)`);
  if (s.fixed) {
    const verb = s.dryRun ? 'would remove' : 'removed';
    lines.push(`--fix ${verb} ${s.fixed.rowsRemoved} rows, ${s.dryRun ? 'would move' : 'moved'} ${s.fixed.rowsMoved}, ${s.dryRun ? 'would recount' : 'recounted'} ${s.fixed.foldersRecounted} folders; nothing on the drive was changed`);
    for (const l of s.fixed.left) lines.push(`  left ${printable(l.path)}: ${l.reason}`);
  }
  if (s.remaining) {
    const left = DRIFT_CLASS_NAMES.filter((c) => s.remaining![c] > 0);
    lines.push(left.length === 0 ? 'after --fix: no differences' : `after --fix: ${left.map((c) => `${s.remaining![c]} ${c}`).join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

function detail(d: Difference): string {
  if (d.ledger === undefined && d.drive === undefined) return '';
  return `: ledger ${show(d.ledger)}, drive ${show(d.drive)}`;
}

const show = (v: string | number | null | undefined) => (typeof v === 'string' ? JSON.stringify(printable(v)) : String(v));

/** One line per difference: control characters in a name shown escaped. */
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
