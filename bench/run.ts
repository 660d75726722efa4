/**
 * `npm run bench`: the benchmark of vmb-import on this machine. See docs/benchmarks.md.
 *
 *   node dist/bench/run.js [--quick] [--cases 1,2,3,4] [--runs N] [--budget-min M]
 *                          [--target local|onedrive|local,onedrive] [--sweep 1,2,4,6,8] [--sweep-runs N]
 *                          [--threads N] [--tasks-per-thread N] [--latency MS] [--chunk-size B] [--simple-max B]
 *                          [--reference-files N] [--reference-runs N] [--no-reference] [--no-floors]
 *                          [--work DIR] [--keep] [--pg-fast] [--timeout-min N] [--out FILE | --no-docs]
 *                          [--baseline DIR]
 *
 * Generates the data sets, starts a PostgreSQL and (for the onedrive target) the Graph emulator,
 * runs every case with the real CLI in a child process, and prints and writes medians. Every
 * measurement runs once; the ones the targets are judged on are repeated up to --runs times while
 * the time budget lasts. Nothing here asserts a target: the ratios are reported, never enforced.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase } from './cases/case.js';
import { CASES } from './cases/registry.js';
import { benchSets, type SetName } from './lib/bench-sets.js';
import type { BenchContext } from './lib/context.js';
import { generate } from './lib/datasets.js';
import { emulatorMainIn, startEmulator } from './lib/emulator.js';
import { machine } from './lib/machine.js';
import { OptionError, parseOptions, type Options } from './lib/options.js';
import { startBenchServer, type BenchServer } from './lib/pg-server.js';
import { run } from './lib/proc.js';
import { mergeResults, renderMarkdown, type Report } from './lib/report.js';
import { fmt } from './lib/results.js';
import { ResultsSink } from './lib/results-sink.js';
import { runRounds, type Unit } from './lib/schedule.js';
import { cliIn, snapshotBuild } from './lib/snapshot.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

const log = (m: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

async function main(argv: string[]): Promise<void> {
  if (!existsSync(cliIn(REPO))) throw new Error(`${cliIn(REPO)} is missing: run npm run build`);
  let parsed: Options | 'help';
  try {
    parsed = parseOptions(argv, { cases: CASES, defaultOut: path.join(REPO, 'docs', 'benchmarks.md') });
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    process.stderr.write(`run.js: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed === 'help') {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^\/\*\*?/, '').replace(/^ \* ?/gm, '') + '\n');
    return;
  }
  const o = parsed;
  const started = Date.now();
  // Always a directory of our own (inside --work when given), so removing it removes nothing else.
  if (o.work) await mkdir(path.resolve(o.work), { recursive: true });
  const work = await mkdtemp(path.join(o.work ? path.resolve(o.work) : os.tmpdir(), 'vmb-bench-'));
  const build = await snapshotBuild(REPO, work);
  // The commit the copied build came from, taken when it was copied.
  const host = machine(REPO);
  const loadAtStart = os.loadavg()[0];
  if (loadAtStart > host.nproc / 2) log(`warning: the 1-minute load average is ${loadAtStart.toFixed(1)} on ${host.nproc} CPUs: other work is running, and the numbers will show it`);
  log(`vmb-import benchmark: ${o.quick ? 'quick' : 'full'}, cases ${o.cases.join(',')}, targets ${o.targets.join(',')}, ${o.runs} run(s) each, work dir ${work}, build copied to ${build.app} from commit ${host.commit}`);

  const stop = new AbortController();
  let pg: BenchServer | null = null;
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    await pg?.stop().catch(() => undefined);
    if (!o.keep) await rm(work, { recursive: true, force: true }).catch(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: cleaning up`);
    stop.abort();
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const server = await startBenchServer({ fast: o.pgFast });
    pg = server;
    log(`PostgreSQL: ${server.version.split(',')[0]} (${server.settings})`);
    let lastId = 0;
    const ctx: BenchContext = {
      build,
      options: o,
      work,
      sets: benchSets(work, o.quick),
      pg: server,
      startEmulator: (latencyMs) => startEmulator(latencyMs, emulatorMainIn(build.app)),
      results: new ResultsSink(log),
      log,
      nextId: () => ++lastId,
      signal: stop.signal,
    };
    const selected = CASES.filter((c) => o.cases.includes(c.id));
    const units = plan(ctx, selected);
    const setNames = Object.keys(ctx.sets) as SetName[];
    // Data sets first (only those of the cases that run), then the rounds.
    for (const name of setNames) if (selected.some((c) => c.needs.sets.includes(name))) await generate(ctx.sets[name], log);
    let skipped: string[];
    try {
      skipped = await runRounds(units, { runs: o.runs, started, deadline: o.budgetMs > 0 ? started + o.budgetMs : Infinity, log });
    } finally {
      for (const name of setNames) if (existsSync(ctx.sets[name].root)) await removeTree(ctx.sets[name].root);
    }
    if (skipped.length) ctx.results.note(`time budget (--budget-min ${o.budgetMs / 60000}): skipped ${skipped.join('; ')}; the medians of those rows are over fewer runs`);
    await writeReport(ctx, {
      when: new Date().toISOString(),
      mode: o.quick ? 'quick' : 'full',
      command: `node dist/bench/run.js ${argv.join(' ')}`.trim(),
      machine: host,
      postgres: `${server.version.split(',')[0]}; ${server.settings}`,
      options: { runs: o.runs, threads: o.threads, tasks: o.tasks, sweep: o.sweep, latencyMs: o.latencyMs, chunkSize: o.chunkSize, simpleMax: o.simpleMax, targets: o.targets, cases: o.cases, baseline: o.baseline },
      sets: ctx.sets,
      rows: ctx.results.rows,
      notes: ctx.results.notes,
      totalMs: Date.now() - started,
      loadAtStart,
    });
    log(`done in ${fmt.s(Date.now() - started)} s`);
  } catch (err) {
    // After Ctrl-C what the interrupted run throws is moot: the signal handler is removing the
    // work directory and will exit; wait for it.
    if (stop.signal.aborted) await new Promise(() => undefined);
    throw err;
  } finally {
    await cleanup();
  }
}

/** The selected cases' units, case by case, each for every target it applies to. */
function plan(ctx: BenchContext, cases: readonly BenchCase[]): Unit[] {
  const units: Unit[] = [];
  for (const c of cases) {
    for (const target of ctx.options.targets) {
      if (c.needs.onedriveOnly && target !== 'onedrive') {
        ctx.results.note(`case ${c.id} (${c.needs.onedriveOnly}) does not apply to the ${target} target; skipped for it`);
        continue;
      }
      units.push(...c.plan(ctx, { target, latencyMs: c.needs.latency ? ctx.options.latencyMs : 0 }));
    }
  }
  return units;
}

async function removeTree(dir: string): Promise<void> {
  const t0 = performance.now();
  await run('rm', ['-rf', '--', dir], { timeoutMs: 600_000 }).catch(() => rm(dir, { recursive: true, force: true }));
  log(`removed ${dir} in ${fmt.s(performance.now() - t0)} s`);
}

/** The results on stdout, and into --out (keeping what the file holds above the results marker). */
async function writeReport(ctx: BenchContext, report: Report): Promise<void> {
  const md = renderMarkdown(report);
  process.stdout.write(`\n${md.split('<!-- results -->')[1] ?? md}\n`);
  const out = ctx.options.out;
  if (!out) return;
  await mkdir(path.dirname(out), { recursive: true });
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : null;
  await writeFile(out, mergeResults(previous, md));
  log(`wrote ${out}`);
}

await main(process.argv.slice(2));
