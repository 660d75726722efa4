import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv, lastJsonLine } from '../lib/cli.js';
import type { BenchContext } from '../lib/context.js';
import { fileCount, type GridSpec } from '../lib/datasets.js';
import { measureImporter } from '../lib/measure-importer.js';
import { migrate } from '../lib/migrate.js';
import { runMeasured } from '../lib/proc.js';
import { fmt, type TargetKind } from '../lib/results.js';
import type { Unit } from '../lib/schedule.js';
import type { BenchCase } from './case.js';

/**
 * Case 4: a re-run over files that are all in the ledger already (nothing to upload), on 1,000,000
 * empty files and on 20,000 for the RSS comparison. The ledger is seeded once per data set.
 */
export const noopRerunCase: BenchCase = {
  id: 4,
  title: '1,000,000 unchanged files, no-op re-run',
  needs: { latency: false, sets: ['noop20k', 'million'] },
  plan: (ctx, { target, latencyMs }) => [ctx.sets.noop20k, ctx.sets.million].map((spec) => noopUnit(ctx, target, latencyMs, spec)),
};

function noopUnit(ctx: BenchContext, target: TargetKind, latencyMs: number, spec: GridSpec): Unit {
  const o = ctx.options;
  const files = fileCount(spec);
  const localRoot = path.join(ctx.work, `drive-noop-${target}-${files}`);
  const name = `vmb_bench_c4_${files}_${target}`;
  let url = '';
  const unit: Unit = {
    name: `case 4 (${target}, ${fmt.n(files)} files)`,
    repeatMs: 0,
    setup: async () => {
      await mkdir(localRoot, { recursive: true });
      url = await ctx.pg.createDatabase(name);
      await migrate(ctx, url);
      await seedLedger(ctx, target, spec, { name, url, localRoot });
    },
    round: async () => {
      const t0 = Date.now();
      const row = ctx.results.row(4, target, 'importer', `vmb-import no-op, ${fmt.n(files)} files, ${o.threads}×${o.tasks}`, { threads: o.threads, tasks: o.tasks });
      await measureImporter(ctx, row, spec, target, { threads: o.threads, tasks: o.tasks, latencyMs, expectUploaded: 0, db: { name, url }, localRoot });
      unit.repeatMs = Date.now() - t0;
    },
    teardown: async () => {
      await ctx.pg.dropDatabase(name);
      await rm(localRoot, { recursive: true, force: true });
    },
  };
  return unit;
}

/**
 * The ledger of a finished import of `spec`, written by one COPY (bench/floors.ts copy) under the
 * drive key the CLI will use: that COPY is case 4's COPY floor, and its sample goes in that row.
 * Then VACUUM ANALYZE, so the first no-op run meets settled statistics, not a table just bulk-loaded.
 */
async function seedLedger(ctx: BenchContext, target: TargetKind, spec: GridSpec, db: { name: string; url: string; localRoot: string }): Promise<void> {
  const files = fileCount(spec);
  const key = target === 'onedrive' ? { driveId: 'drive-bench', remoteRoot: '/vmb' } : { driveId: `local:${db.localRoot}`, remoteRoot: '/' };
  const seedRow = ctx.results.row(4, target, 'floor-copy', `seed the ledger: COPY ${fmt.n(files)} rows, 1 connection`);
  const t0 = performance.now();
  const seed = await runMeasured(
    process.execPath,
    [path.join(ctx.build.distBench, 'floors.js'), 'copy', '--spec', JSON.stringify(spec), '--database-url', db.url, '--drive-id', key.driveId, '--remote-root', key.remoteRoot, '--key-kind', target],
    { env: cleanEnv(), timeoutMs: ctx.options.timeoutMs, signal: ctx.signal },
  );
  const seeded = lastJsonLine(seed.stdout);
  if (seed.code !== 0 || !seeded) throw new Error(`seeding the ledger failed: ${seed.stderr.slice(-1000)}`);
  ctx.results.record(seedRow, { ms: seeded.ms, files: seeded.files, bytes: 0, rssMb: seed.peakRssMb, cpuS: seed.cpuS, statements: null, connections: null, xacts: null, httpRequests: null, wrongCounts: null, problems: [] });
  await ctx.pg.query(db.name, 'VACUUM ANALYZE corporate.vmb_items');
  ctx.log(`seeded and analysed ${fmt.n(files)} ledger rows in ${fmt.s(performance.now() - t0)} s`);
}
