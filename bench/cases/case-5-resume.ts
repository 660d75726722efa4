import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanEnv, importArgs, lastJsonLine } from '../lib/cli.js';
import type { BenchContext } from '../lib/context.js';
import type { EmulatorProcess, EmulatorStats } from '../lib/emulator.js';
import { measureChild, stderrTail } from '../lib/measured-child.js';
import { processSample, type Row } from '../lib/results.js';
import type { Unit } from '../lib/schedule.js';
import { baselineLabel, cliIn } from '../lib/snapshot.js';
import type { BenchCase } from './case.js';

/** A build whose CLI the case runs: this one, or the --baseline checkout (today's behaviour). */
interface BuildUnderTest {
  label: string;
  bin: string;
}

/**
 * Case 5: one large file (1 GiB; quick 256 MiB) through upload sessions over the emulator with
 * --latency per request, for this build and, with --baseline DIR, another build beside it:
 *  - interrupted half-way (kill -9 once the server holds half the file), then the re-run,
 *    measured: its time, the bytes it sent and how many of them the first run had already sent;
 *  - a run with --max-runtime set to when the killed run had half the file on the server (so the
 *    bound comes half-way through the upload): how long the run really took past its bound.
 */
export const resumeCase: BenchCase = {
  id: 5,
  title: 'a large file interrupted half-way, then the re-run',
  needs: { onedriveOnly: 'upload sessions exist on OneDrive only; the local drive continues its partial copies without a benchmark', latency: true, sets: ['resume'] },
  plan(ctx, { latencyMs }) {
    const units: Unit[] = [];
    let builds: BuildUnderTest[] = [{ label: 'this build', bin: ctx.build.bin }];
    units.push({
      name: 'case 5',
      repeatMs: 0,
      setup: async () => {
        if (ctx.options.baseline) builds = [{ label: baselineLabel(ctx.options.baseline), bin: cliIn(ctx.options.baseline) }, ...builds];
      },
      round: async (r) => {
        const t0 = Date.now();
        for (const build of builds) {
          const halfWayMs = await interruptedThenRerun(ctx, build, latencyMs);
          await boundedRun(ctx, build, latencyMs, halfWayMs);
        }
        if (r === 0) units[0].repeatMs = Date.now() - t0;
      },
    });
    return units;
  },
};

/** Bytes the emulator took in fragments, cut off or refused, over every session so far. */
const fragmentBytes = (s: EmulatorStats) => s.sessions.reduce((n, x) => n + x.bytesAccepted + x.bytesCutOff + x.bytesRefused, 0);
const received = (s: EmulatorStats) => Math.max(0, ...s.sessions.map((x) => x.received));

/** A fresh database and emulator for one measurement, removed afterwards. */
async function withFreshLedgerAndDrive<T>(ctx: BenchContext, latencyMs: number, work: (db: string, emu: EmulatorProcess) => Promise<T>): Promise<T> {
  const name = `vmb_bench_c5_${ctx.nextId()}`;
  const url = await ctx.pg.createDatabase(name);
  const emu = await ctx.startEmulator(latencyMs);
  try {
    return await work(url, emu);
  } finally {
    await emu.close();
    await ctx.pg.dropDatabase(name);
  }
}

function argsFor(ctx: BenchContext, build: BuildUnderTest, db: string, emu: EmulatorProcess, extra: string[] = []): string[] {
  const o = ctx.options;
  const target = { kind: 'onedrive' as const, emulator: emu, chunkSize: o.chunkSize, simpleMax: o.simpleMax };
  return [...importArgs({ bin: build.bin, root: ctx.sets.resume.root, databaseUrl: db, dataDir: path.join(ctx.work, 'data'), threads: o.threads, tasks: o.tasks, target }), ...extra];
}

function row(ctx: BenchContext, label: string, latencyMs: number): Row {
  return ctx.results.row(5, 'onedrive', 'importer', label, { threads: ctx.options.threads, tasks: ctx.options.tasks, latencyMs });
}

/** Returns how long after its start the killed run had half the file on the server. */
async function interruptedThenRerun(ctx: BenchContext, build: BuildUnderTest, latencyMs: number): Promise<number> {
  const size = ctx.sets.resume.size;
  return withFreshLedgerAndDrive(ctx, latencyMs, async (db, emu) => {
    const args = argsFor(ctx, build, db, emu);
    const env = cleanEnv({ VMB_GRAPH_TOKEN: emu.token });
    const problems: string[] = [];
    const started = Date.now();
    const first = spawn(process.execPath, args, { env, stdio: 'ignore' });
    const closed = once(first, 'close');
    const deadline = Date.now() + ctx.options.timeoutMs;
    for (;;) {
      if (first.exitCode !== null) {
        problems.push('the first run ended before the server held half the file');
        break;
      }
      if (received(await emu.stats()) >= size / 2 || Date.now() > deadline) break;
      await sleep(20);
    }
    const halfWayMs = Date.now() - started;
    first.kill('SIGKILL');
    await closed;
    // The emulator counts the fragment the kill cut off once it sees the connection close.
    await sleep(500);
    const before = await emu.stats();
    const held = received(before);

    const { m, foreignCpu } = await measureChild(ctx, args, env);
    const after = await emu.stats();
    const summary = lastJsonLine(m.stdout) ?? {};
    if (m.code !== 0) problems.push(`exit code ${m.code}: ${stderrTail(m, 3, 400)}`);
    if (summary.uploaded !== 1) problems.push(`uploaded ${summary.uploaded}, expected 1`);
    if (after.files !== 1) problems.push(`the drive holds ${after.files} files, expected 1`);
    const sent = fragmentBytes(after) - fragmentBytes(before);
    ctx.results.record(row(ctx, `${build.label}: re-run after kill -9 half-way`, latencyMs), processSample({
      ms: m.wallMs,
      files: 1,
      bytes: sent,
      bytesResent: sent - (size - held),
      rssMb: m.peakRssMb,
      cpuS: m.cpuS,
      httpRequests: after.requests - before.requests,
      foreignCpu,
      problems,
      innerMs: summary.durationMs,
    }));
    return halfWayMs;
  });
}

async function boundedRun(ctx: BenchContext, build: BuildUnderTest, latencyMs: number, boundMs: number): Promise<void> {
  await withFreshLedgerAndDrive(ctx, latencyMs, async (db, emu) => {
    const { m, foreignCpu } = await measureChild(ctx, argsFor(ctx, build, db, emu, ['--max-runtime', `${boundMs}ms`]), cleanEnv({ VMB_GRAPH_TOKEN: emu.token }));
    const after = await emu.stats();
    const summary = lastJsonLine(m.stdout) ?? {};
    const problems = m.code === 0 ? [] : [`exit code ${m.code}: ${stderrTail(m, 3, 400)}`];
    if (summary.status !== 'partial') problems.push(`status ${summary.status}, expected partial`);
    ctx.results.record(row(ctx, `${build.label}: --max-runtime half-way through the upload`, latencyMs), processSample({
      ms: m.wallMs,
      boundMs,
      files: 1,
      bytes: fragmentBytes(after),
      rssMb: m.peakRssMb,
      cpuS: m.cpuS,
      httpRequests: after.requests,
      foreignCpu,
      problems,
      innerMs: summary.durationMs,
    }));
  });
}
