import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { TargetKind } from './results.js';

const MiB = 1024 * 1024;
/** Graph takes upload-session chunks in multiples of 320 KiB. */
const CHUNK_QUANTUM = 327_680;

/** run.ts's options, as its usage comment lists them. */
export interface Options {
  quick: boolean;
  /** Case ids, as given; the cases run in the registry's order whatever this order is. */
  cases: number[];
  runs: number;
  targets: TargetKind[];
  sweep: number[];
  threads: number;
  tasks: number;
  latencyMs: number;
  chunkSize: number;
  simpleMax: number;
  work: string | null;
  keep: boolean;
  pgFast: boolean;
  reference: boolean;
  floors: boolean;
  out: string | null;
  timeoutMs: number;
  sweepRuns: number;
  referenceRuns: number;
  referenceFiles: number;
  budgetMs: number;
  /** A built checkout of another version (case 5 measures it beside this one: today's behaviour). */
  baseline: string | null;
}

/** A bad command line: the benchmark prints the message alone and exits 2. */
export class OptionError extends Error {}

/**
 * The options, or 'help' when --help asks for the usage. `cases` is what may be asked for with --cases (the registry's ids and titles); `defaultOut` is the
 * file the results go to without --out.
 */
export function parseOptions(argv: string[], known: { cases: readonly { id: number; title: string }[]; defaultOut: string }): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        cases: { type: 'string', default: known.cases.map((c) => c.id).join(',') },
        runs: { type: 'string' },
        target: { type: 'string' },
        sweep: { type: 'string', default: '1,2,4,6,8' },
        threads: { type: 'string', default: String(os.availableParallelism()) },
        'tasks-per-thread': { type: 'string', default: '16' },
        latency: { type: 'string', default: '50' },
        'chunk-size': { type: 'string', default: String(32 * CHUNK_QUANTUM) },
        'simple-max': { type: 'string', default: String(4 * MiB) },
        work: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'pg-fast': { type: 'boolean', default: false },
        'no-reference': { type: 'boolean', default: false },
        'no-floors': { type: 'boolean', default: false },
        out: { type: 'string' },
        'no-docs': { type: 'boolean', default: false },
        'timeout-min': { type: 'string', default: '20' },
        'sweep-runs': { type: 'string', default: '1' },
        'reference-runs': { type: 'string', default: '1' },
        'reference-files': { type: 'string' },
        'budget-min': { type: 'string' },
        baseline: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    // node:util's own refusals (an unknown option, a missing value) are command-line errors too.
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) throw new OptionError((err as Error).message);
    throw err;
  }
  if (values.help) return 'help';
  const ints = (s: string, what: string) =>
    s.split(',').map((x) => {
      const n = Number(x.trim());
      if (!Number.isInteger(n) || n < 1) throw new OptionError(`--${what}: ${JSON.stringify(x)} is not a whole number ≥ 1`);
      return n;
    });
  const quick = values.quick!;
  const given = (values.target ?? '').split(',').filter(Boolean) as TargetKind[];
  // The product's own target (through the Graph emulator) unless another is asked for.
  const targets: TargetKind[] = given.length ? given : ['onedrive'];
  for (const t of targets) if (t !== 'local' && t !== 'onedrive') throw new OptionError(`--target ${t}: use local, onedrive or local,onedrive`);
  const cases = ints(values.cases!, 'cases');
  for (const c of cases) {
    if (!known.cases.some((k) => k.id === c)) throw new OptionError(`--cases: there is no case ${c}; the cases are ${known.cases.map((k) => `${k.id} (${k.title})`).join(', ')}`);
  }
  return {
    quick,
    cases,
    runs: values.runs ? ints(values.runs, 'runs')[0] : quick ? 1 : 3,
    targets,
    sweep: ints(values.sweep!, 'sweep'),
    threads: ints(values.threads!, 'threads')[0],
    tasks: ints(values['tasks-per-thread']!, 'tasks-per-thread')[0],
    latencyMs: ints(values.latency!, 'latency')[0],
    chunkSize: ints(values['chunk-size']!, 'chunk-size')[0],
    simpleMax: ints(values['simple-max']!, 'simple-max')[0],
    work: values.work ?? null,
    keep: values.keep!,
    pgFast: values['pg-fast']!,
    reference: !values['no-reference'],
    floors: !values['no-floors'],
    out: values['no-docs'] ? null : path.resolve(values.out ?? known.defaultOut),
    timeoutMs: ints(values['timeout-min']!, 'timeout-min')[0] * 60_000,
    sweepRuns: ints(values['sweep-runs']!, 'sweep-runs')[0],
    referenceRuns: ints(values['reference-runs']!, 'reference-runs')[0],
    referenceFiles: values['reference-files'] !== undefined ? Number(values['reference-files']) : quick ? 500 : 1000,
    budgetMs: values['budget-min'] !== undefined ? Number(values['budget-min']) * 60_000 : quick ? 0 : 30 * 60_000,
    baseline: values.baseline ? path.resolve(values.baseline) : null,
  };
}
