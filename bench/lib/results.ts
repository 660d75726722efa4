/** What the benchmark keeps of each measurement, and the arithmetic on it. */

/** Where the files go: a folder on this machine, or OneDrive through the Graph emulator. */
export type TargetKind = 'local' | 'onedrive';

export type RowKind = 'importer' | 'reference' | 'floor-hash' | 'floor-target' | 'floor-copy';

export interface Sample {
  /** Wall time: of the whole process for importers, of the work alone for floors. */
  ms: number;
  files: number;
  bytes: number;
  rssMb: number | null;
  cpuS: number | null;
  /** Statements executed in this run's database (pg_stat_statements calls). */
  statements: number | null;
  /** Sessions authenticated in this run's database. */
  connections: number | null;
  /** Transactions committed or rolled back (pg_stat_database). */
  xacts: number | null;
  httpRequests: number | null;
  /** Folders whose child_count is not their number of child rows (null: not checked). */
  wrongCounts: number | null;
  /** Anything that makes this sample suspect (failures, missing rows); empty when clean. */
  problems: string[];
  /** The importer's own durationMs, for comparison with the process wall time. */
  innerMs?: number;
  statementsByQuery?: Record<string, number>;
  /** 1-minute load average when the sample ended (other work on the machine shows here). */
  load1?: number;
  /** Share of the machine's CPU used by processes outside the benchmark during the sample. */
  foreignCpu?: number | null;
  /** Case 5: bytes sent again that an earlier (interrupted) run had already sent. */
  bytesResent?: number;
  /** Case 5: the run's --max-runtime, ms. */
  boundMs?: number;
  /** Case 7: how the run fared against the emulator's app budget. */
  throttle?: ThrottleSample;
}

/** What a sample of one CLI process has that the database counters do not: the figures it leaves out are not measured. */
export type ProcessSample = Omit<Sample, 'statements' | 'connections' | 'xacts' | 'wrongCounts'> & Partial<Pick<Sample, 'statements' | 'connections' | 'xacts' | 'wrongCounts'>>;

/** A sample of one CLI process, the database counters it did not measure left null. */
export function processSample(s: ProcessSample): Sample {
  return { statements: null, connections: null, xacts: null, wrongCounts: null, ...s };
}

/** Case 7: one run against an app budget, from the emulator's budget counters and the CLI's --json summary. */
export interface ThrottleSample {
  /** The budget's rate: RU per window = 2 × this × the window in seconds. */
  requestsPerS: number;
  rateLimitHeaders: boolean;
  /** RU admitted ÷ (RU per window × the run's span of requests ÷ the window). */
  budgetUsed: number;
  /** Requests refused with 429 ÷ all requests charged. */
  requestsThrottled: number;
  /** The summary's `failed`; null without a summary. */
  filesFailed: number | null;
  /** summary.throttling: null from a build without the governor (no such field). */
  throttledRequests: number | null;
  heldMs: number | null;
  deferred: number | null;
}

export interface Row {
  caseId: number;
  target: TargetKind;
  kind: RowKind;
  label: string;
  threads?: number;
  tasks?: number;
  concurrency?: number;
  latencyMs?: number;
  samples: Sample[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function med(row: Row, pick: (s: Sample) => number | null): number | null {
  const xs = row.samples.map(pick).filter((x): x is number => x !== null && Number.isFinite(x));
  return xs.length ? median(xs) : null;
}

export interface Summary {
  ms: number;
  files: number;
  filesPerS: number;
  mbPerS: number;
  rssMb: number | null;
  cpuS: number | null;
  stmtsPerFile: number | null;
  xactsPerFile: number | null;
  connections: number | null;
  httpPerFile: number | null;
  wrongCounts: number | null;
  foreignCpu: number | null;
  problems: string[];
}

/** Medians over a row's runs; rates from each run's own time, then the median of those. */
export function summarize(row: Row): Summary {
  const files = med(row, (s) => s.files) ?? 0;
  return {
    ms: med(row, (s) => s.ms) ?? NaN,
    files,
    filesPerS: med(row, (s) => (s.files * 1000) / s.ms) ?? NaN,
    mbPerS: med(row, (s) => (s.bytes / 1e6) * (1000 / s.ms)) ?? NaN,
    rssMb: med(row, (s) => s.rssMb),
    cpuS: med(row, (s) => s.cpuS),
    stmtsPerFile: med(row, (s) => (s.statements === null || s.files === 0 ? null : s.statements / s.files)),
    xactsPerFile: med(row, (s) => (s.xacts === null || s.files === 0 ? null : s.xacts / s.files)),
    connections: med(row, (s) => s.connections),
    httpPerFile: med(row, (s) => (s.httpRequests === null || s.files === 0 ? null : s.httpRequests / s.files)),
    wrongCounts: row.samples.some((s) => s.wrongCounts !== null) ? Math.max(...row.samples.map((s) => s.wrongCounts ?? 0)) : null,
    foreignCpu: med(row, (s) => s.foreignCpu ?? null),
    problems: [...new Set(row.samples.flatMap((s) => s.problems))],
  };
}

export const fmt = {
  n(x: number | null | undefined, digits = 0): string {
    if (x === null || x === undefined || !Number.isFinite(x)) return '—';
    return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  },
  /** Three significant digits, for small ratios such as statements per file. */
  sig(x: number | null | undefined): string {
    if (x === null || x === undefined || !Number.isFinite(x)) return '—';
    if (x === 0) return '0';
    if (Math.abs(x) >= 100) return fmt.n(x, 0);
    return Number(x.toPrecision(3)).toString();
  },
  s(ms: number): string {
    return Number.isFinite(ms) ? (ms / 1000).toFixed(ms < 10_000 ? 2 : 1) : '—';
  },
};
