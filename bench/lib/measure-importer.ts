import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv, importArgs, lastJsonLine, type CliTarget } from './cli.js';
import type { BenchContext } from './context.js';
import { fileCount, type GridSpec } from './datasets.js';
import { emulatorAfter, measureChild, stderrTail } from './measured-child.js';
import type { Row, Sample, TargetKind } from './results.js';
import { statementName } from './statement-names.js';

export interface ImporterRun {
  threads: number;
  tasks: number;
  latencyMs: number;
  /** Files the run should upload (0 for a no-op re-run). */
  expectUploaded: number;
  /** A seeded ledger to run against (case 4) instead of a fresh database; kept afterwards. */
  db?: { name: string; url: string };
  /** The local target's folder, when it must outlive the run (case 4); else a fresh one, removed. */
  localRoot?: string;
}

/**
 * One run of the real CLI: a fresh database (unless `o.db` is given: a seeded ledger) and, for
 * onedrive, a fresh emulator; measured from outside; checked afterwards. The sample goes to `row`.
 */
export async function measureImporter(ctx: BenchContext, row: Row, spec: GridSpec, target: TargetKind, o: ImporterRun): Promise<Sample> {
  const { pg, options } = ctx;
  const id = ctx.nextId();
  const name = o.db?.name ?? `vmb_bench_c${row.caseId}_${id}`;
  const url = o.db?.url ?? (await pg.createDatabase(name));
  const localRoot = o.localRoot ?? path.join(ctx.work, `drive-${id}`);
  const emu = target === 'onedrive' ? await ctx.startEmulator(o.latencyMs) : null;
  const before = pg.counts(name);
  const stmtsBefore = await pg.statements(name);
  const statsBefore = await pg.stats(name);
  try {
    const cliTarget: CliTarget = emu ? { kind: 'onedrive', emulator: emu, chunkSize: options.chunkSize, simpleMax: options.simpleMax } : { kind: 'local', localRoot };
    const args = importArgs({ bin: ctx.build.bin, root: spec.root, databaseUrl: url, dataDir: path.join(ctx.work, 'data'), threads: o.threads, tasks: o.tasks, target: cliTarget });
    const { m, foreignCpu } = await measureChild(ctx, args, cleanEnv(emu ? { VMB_GRAPH_TOKEN: emu.token } : {}));
    const after = pg.counts(name);
    const stmts = await pg.statements(name);
    const stats = await pg.stats(name);
    const problems: string[] = [];
    const parsed = lastJsonLine(m.stdout);
    if (!parsed) problems.push(`no JSON summary (exit ${m.code}${m.timedOut ? ', timed out' : ''}): ${stderrTail(m, 3, 400)}`);
    const summary = parsed ?? {};
    if (m.code !== 0) problems.push(`exit code ${m.code}${m.timedOut ? ' (timed out)' : ''}`);
    if (summary.failed > 0) problems.push(`${summary.failed} files failed (${(summary.failures ?? []).slice(0, 2).map((f: any) => `${f.code}: ${f.reason}`).join('; ')})`);
    if (summary.uploaded !== undefined && summary.uploaded !== o.expectUploaded) problems.push(`uploaded ${summary.uploaded}, expected ${o.expectUploaded}`);
    const files = fileCount(spec);
    if (summary.seen !== undefined && summary.seen !== files) problems.push(`saw ${summary.seen} of ${files} files`);
    let wrong: number | null = null;
    try {
      const check = await pg.query<{ wrong: number; rows: number }>(
        name,
        `SELECT (SELECT count(*)::int FROM corporate.vmb_items p WHERE p.is_folder AND p.child_count <> (SELECT count(*) FROM corporate.vmb_items c WHERE c.parent_item_id = p.onedrive_item_id)) AS wrong,
                (SELECT count(*)::int FROM corporate.vmb_items WHERE NOT is_folder) AS rows`,
      );
      wrong = check.rows[0].wrong;
      if (check.rows[0].rows !== files) problems.push(`ledger holds ${check.rows[0].rows} file rows, expected ${files}`);
    } catch (err) {
      problems.push(`could not check the ledger: ${(err as Error).message}`);
    }
    let httpRequests: number | null = null;
    if (emu) {
      const es = await emulatorAfter(emu);
      httpRequests = es.stats.requests;
      if (o.expectUploaded > 0 && es.stats.files !== o.expectUploaded) problems.push(`the drive holds ${es.stats.files} files, expected ${o.expectUploaded}`);
      problems.push(...es.problems);
    }
    const byQuery: Record<string, number> = {};
    for (const [queryId, q] of stmts.byQuery) {
      const n = q.calls - (stmtsBefore.byQuery.get(queryId)?.calls ?? 0);
      if (n > 0) byQuery[statementName(q.query)] = (byQuery[statementName(q.query)] ?? 0) + n;
    }
    const sample: Sample = {
      ms: m.wallMs,
      files,
      bytes: summary.bytesUploaded ?? 0,
      rssMb: m.peakRssMb,
      cpuS: m.cpuS,
      statements: stmts.total - stmtsBefore.total,
      connections: after.connections - before.connections,
      xacts: stats.xacts - statsBefore.xacts,
      httpRequests,
      wrongCounts: wrong,
      foreignCpu,
      problems,
      innerMs: summary.durationMs,
      statementsByQuery: byQuery,
    };
    ctx.results.record(row, sample);
    return sample;
  } finally {
    await emu?.close();
    if (!o.db) await pg.dropDatabase(name);
    if (!o.localRoot) await rm(localRoot, { recursive: true, force: true });
  }
}
