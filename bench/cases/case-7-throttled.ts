import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv, importArgs, lastJsonLine } from '../lib/cli.js';
import type { BenchContext } from '../lib/context.js';
import { fileCount, generate, type GridSpec } from '../lib/datasets.js';
import type { EmulatorStats } from '../lib/emulator.js';
import { stderrTail } from '../lib/measured-child.js';
import { cpuSnapshot, foreignShare } from '../lib/cpu-share.js';
import { runMeasured } from '../lib/proc.js';
import { processSample, type Row, type ThrottleSample } from '../lib/results.js';
import type { Unit } from '../lib/schedule.js';
import { baselineLabel, cliIn } from '../lib/snapshot.js';
import type { BenchCase } from './case.js';

/** The budget's window: short, so a run of ~30 s spans about three of them. */
const WINDOW_MS = 10_000;
/** A small upload (the bulk of a run's requests) costs 2 RU, so 2 RU × rate × window is `rate` uploads a second. */
const RU_PER_REQUEST = 2;
/** A run has about this many seconds of requests at its budget's rate. */
const RUN_S = 30;
const FILE_SIZE = 1024;
const FOLDERS = 4;
/**
 * A run that takes far longer than its ~30 s is bounded (--max-runtime, so it still ends with its
 * summary): the case has to fit in its quarter of an hour, and a run this slow has already said
 * what it had to say. The kill after RUN_TIMEOUT_MS is for a run that overruns its bound.
 */
const RUN_BOUND_MS = 120_000;
const RUN_TIMEOUT_MS = 150_000;

/** One tenant of the case: a budget, whether it sends RateLimit headers, and how the importer runs. */
interface Config {
  requestsPerS: number;
  rateLimitHeaders: boolean;
  latencyMs: number;
  /** --threads; null for the benchmark's default (--threads, the machine's cores). */
  threads: number | null;
}

const LEVELS = [10, 20, 50, 100];
const CONFIGS: Config[] = [
  ...LEVELS.flatMap((requestsPerS) => [true, false].map((rateLimitHeaders) => ({ requestsPerS, rateLimitHeaders, latencyMs: 0, threads: null }))),
  { requestsPerS: 20, rateLimitHeaders: true, latencyMs: 50, threads: null },
  { requestsPerS: 20, rateLimitHeaders: true, latencyMs: 0, threads: 8 },
];

interface BuildUnderTest {
  label: string;
  bin: string;
  /** The baseline: the build without the governor. */
  baseline: boolean;
}

/**
 * Case 7 (the issue's case 5; 5 and 6 were taken): a throttled tenant. The emulator gets an app
 * budget of fixed 10 s windows (RU = 2 × requests/s × 10) at 10, 20, 50 and 100 requests/s, with
 * RateLimit headers and without, and at 20 requests/s also with 50 ms per request and with 8
 * threads; the importer uploads requests/s × 30 files of 1 KiB (about three windows' worth) to a
 * fresh drive and ledger, this build and, with --baseline DIR, that build interleaved with it.
 * Per run: files/s, the share of the budget used, the share of requests throttled, files failed,
 * and the governor's throttled requests and time held.
 */
export const throttledCase: BenchCase = {
  id: 7,
  title: 'a throttled tenant (app budget, with and without RateLimit headers)',
  needs: { onedriveOnly: 'only Graph throttles; the local drive has no budget', latency: false, sets: [] },
  plan(ctx) {
    const sets = new Map(LEVELS.map((rate) => [rate, gridFor(ctx, rate)]));
    let builds: BuildUnderTest[] = [{ label: 'this build', bin: ctx.build.bin, baseline: false }];
    const unit: Unit = {
      name: 'case 7',
      repeatMs: 0,
      setup: async () => {
        if (ctx.options.baseline) builds = [...builds, { label: baselineLabel(ctx.options.baseline), bin: cliIn(ctx.options.baseline), baseline: true }];
        for (const spec of sets.values()) await generate(spec, ctx.log);
      },
      round: async (r) => {
        const t0 = Date.now();
        for (const [i, config] of CONFIGS.entries()) {
          // Turn about, so neither build always runs on the machine the other just warmed or loaded.
          const order = i % 2 === 0 ? builds : [...builds].reverse();
          for (const build of order) await throttledRun(ctx, build, config, sets.get(config.requestsPerS)!);
        }
        if (r === 0) unit.repeatMs = Date.now() - t0;
      },
      teardown: async () => {
        for (const spec of sets.values()) await rm(spec.root, { recursive: true, force: true });
      },
    };
    return [unit];
  },
};

function gridFor(ctx: BenchContext, requestsPerS: number): GridSpec {
  return { root: path.join(ctx.work, `throttled-${requestsPerS}`), corps: [7], folders: FOLDERS, subfolders: 0, filesPerDir: (requestsPerS * RUN_S) / FOLDERS, size: FILE_SIZE };
}

function configLabel(c: Config): string {
  const extras = [c.latencyMs ? `${c.latencyMs} ms per request` : null, c.threads !== null ? `${c.threads} threads` : null].filter(Boolean);
  return `${c.requestsPerS} req/s, RateLimit headers ${c.rateLimitHeaders ? 'on' : 'off'}${extras.length ? `, ${extras.join(', ')}` : ''}`;
}

async function throttledRun(ctx: BenchContext, build: BuildUnderTest, config: Config, spec: GridSpec): Promise<void> {
  const o = ctx.options;
  const threads = config.threads ?? o.threads;
  const name = `vmb_bench_c7_${ctx.nextId()}`;
  const db = await ctx.pg.createDatabase(name);
  const emu = await ctx.startEmulator(config.latencyMs);
  try {
    const units = RU_PER_REQUEST * config.requestsPerS * (WINDOW_MS / 1000);
    await emu.budget({ units, windowMs: WINDOW_MS, rateLimitHeaders: config.rateLimitHeaders });
    const args = importArgs({ bin: build.bin, root: spec.root, databaseUrl: db, dataDir: path.join(ctx.work, 'data'), threads, tasks: o.tasks, target: { kind: 'onedrive', emulator: emu } }).concat(['--max-runtime', `${RUN_BOUND_MS}ms`]);
    const cpu0 = cpuSnapshot();
    const m = await runMeasured(process.execPath, args, { env: cleanEnv({ VMB_GRAPH_TOKEN: emu.token }), timeoutMs: Math.min(RUN_TIMEOUT_MS, o.timeoutMs), signal: ctx.signal });
    const foreignCpu = foreignShare(cpu0, cpuSnapshot());
    const after = await emu.stats();
    const summary = lastJsonLine(m.stdout);
    const expected = fileCount(spec);
    const problems: string[] = [];
    if (m.timedOut) problems.push(`stopped after ${RUN_TIMEOUT_MS / 1000} s (the case's limit per run)`);
    else if (m.code !== 0) problems.push(`exit code ${m.code}: ${stderrTail(m, 3, 400)}`);
    if (summary?.status === 'partial') problems.push(`stopped by its --max-runtime of ${RUN_BOUND_MS / 1000} s`);
    if (summary === null) problems.push('no --json summary');
    else if (summary.uploaded !== expected) problems.push(`uploaded ${summary.uploaded} of ${expected} files (${summary.failed} failed, ${summary.deferred} deferred)`);
    if (after.files !== (summary?.uploaded ?? expected)) problems.push(`the drive holds ${after.files} files, the summary says ${summary?.uploaded} uploaded`);
    const throttle = budgetFigures(after, units, config, summary);
    const row: Row = ctx.results.row(7, 'onedrive', 'importer', `${build.label}: ${configLabel(config)}`, { threads, tasks: o.tasks, latencyMs: config.latencyMs });
    ctx.results.record(row, processSample({
      ms: m.wallMs,
      files: summary?.uploaded ?? after.files,
      bytes: after.bytes,
      rssMb: m.peakRssMb,
      cpuS: m.cpuS,
      httpRequests: after.requests,
      foreignCpu,
      problems,
      innerMs: summary?.durationMs,
      throttle,
    }));
    ctx.log(
      `    budget used ${(throttle.budgetUsed * 100).toFixed(1)}%, requests throttled ${(throttle.requestsThrottled * 100).toFixed(2)}% (${after.budget.throttled} of ${after.budget.admitted + after.budget.throttled}), ` +
        `files failed ${throttle.filesFailed ?? '—'}, summary throttled ${throttle.throttledRequests ?? '—'}, held ${throttle.heldMs === null ? '—' : (throttle.heldMs / 1000).toFixed(1)} s`,
    );
  } finally {
    await emu.close();
    await ctx.pg.dropDatabase(name);
  }
}

/** The run's figures against the budget, from the emulator's counters and the CLI's summary. */
function budgetFigures(after: EmulatorStats, units: number, config: Config, summary: Record<string, any> | null): ThrottleSample {
  const b = after.budget;
  const spanMs = b.firstRequestAt !== null && b.lastRequestAt !== null ? b.lastRequestAt - b.firstRequestAt : 0;
  const allowed = (units * spanMs) / WINDOW_MS;
  const charged = b.admitted + b.throttled;
  const t = summary?.throttling;
  return {
    requestsPerS: config.requestsPerS,
    rateLimitHeaders: config.rateLimitHeaders,
    budgetUsed: allowed > 0 ? b.unitsAdmitted / allowed : NaN,
    requestsThrottled: charged > 0 ? b.throttled / charged : NaN,
    filesFailed: typeof summary?.failed === 'number' ? summary.failed : null,
    throttledRequests: typeof t?.throttledRequests === 'number' ? t.throttledRequests : null,
    heldMs: typeof t?.heldMs === 'number' ? t.heldMs : null,
    deferred: typeof t?.deferred === 'number' ? t.deferred : null,
  };
}
