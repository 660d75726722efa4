import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv, lastJsonLine } from './cli.js';
import type { BenchContext } from './context.js';
import { dirCount, type GridSpec } from './datasets.js';
import { measureChild, stderrTail } from './measured-child.js';
import { REFERENCE_CHECK } from './reference-sql.js';
import type { Row, TargetKind } from './results.js';

/**
 * One run of the reference importer (bench/reference-importer.ts, the old recipe) on `spec`, into a
 * database of its own, N = `concurrency` items at once; afterwards every folder's child_count is
 * compared with its real children. `limit`: only the first files in path order.
 */
export async function measureReference(ctx: BenchContext, row: Row, spec: GridSpec, target: TargetKind, o: { concurrency: number; latencyMs: number; limit?: number }): Promise<void> {
  const { pg, options } = ctx;
  const id = ctx.nextId();
  const name = `vmb_bench_ref${row.caseId}_${id}`;
  const url = await pg.createDatabase(name);
  const localRoot = path.join(ctx.work, `drive-ref-${id}`);
  const emu = target === 'onedrive' ? await ctx.startEmulator(o.latencyMs) : null;
  try {
    const args = [
      path.join(ctx.build.distBench, 'reference-importer.js'), spec.root, '--database-url', url, '--concurrency', String(o.concurrency),
      ...(o.limit ? ['--limit', String(o.limit)] : []),
      ...(emu
        ? ['--target', 'onedrive', '--graph-url', emu.url, '--drive-id', emu.driveId, '--remote-root', '/vmb', '--chunk-size', String(options.chunkSize), '--simple-max', String(options.simpleMax)]
        : ['--target', 'local', '--local-root', localRoot]),
    ];
    const { m, foreignCpu } = await measureChild(ctx, args, cleanEnv(emu ? { VMB_GRAPH_TOKEN: emu.token } : {}));
    const counts = pg.counts(name);
    const stmts = await pg.statements(name);
    const stats = await pg.stats(name);
    const out = lastJsonLine(m.stdout);
    const problems: string[] = [];
    if (m.code !== 0 || !out) problems.push(`exit ${m.code}${m.timedOut ? ' (timed out)' : ''}: ${stderrTail(m, 2, 300)}`);
    if (out?.failed) problems.push(`${out.failed} items failed (${out.firstError})`);
    let wrong: number | null = null;
    try {
      const r = await pg.query<{ wrong: number; off_by: number; under: number }>(name, REFERENCE_CHECK);
      wrong = r.rows[0].wrong;
      if (wrong > 0) problems.push(`child_count wrong on ${wrong} of ${dirCount(spec)} folders (${r.rows[0].under} too low, off by ${r.rows[0].off_by} in all)`);
    } catch (err) {
      problems.push(`could not check child counts: ${(err as Error).message}`);
    }
    const httpRequests = emu ? (await emu.stats()).requests : null;
    ctx.results.record(row, {
      ms: m.wallMs,
      files: out?.files ?? 0,
      bytes: out?.bytes ?? 0,
      rssMb: m.peakRssMb,
      cpuS: m.cpuS,
      statements: stmts.total,
      connections: counts.connections,
      xacts: stats.xacts,
      httpRequests,
      wrongCounts: wrong,
      foreignCpu,
      problems,
      innerMs: out?.ms,
    });
  } finally {
    await emu?.close();
    await pg.dropDatabase(name);
    await rm(localRoot, { recursive: true, force: true });
  }
}
