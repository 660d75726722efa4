import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanEnv, lastJsonLine } from './cli.js';
import type { BenchContext } from './context.js';
import type { GridSpec } from './datasets.js';
import type { EmulatorProcess } from './emulator.js';
import { emulatorAfter, measureChild, stderrTail } from './measured-child.js';
import { migrate } from './migrate.js';
import type { Row, Sample, TargetKind } from './results.js';

/** The floors bench/floors.ts measures: read + hash, the target's work alone, one COPY of the rows. */
export type FloorMode = 'hash' | 'target' | 'copy';

export function targetFloorLabel(target: TargetKind, concurrency: number): string {
  return target === 'onedrive' ? `floor: emulator alone, ${concurrency} at once` : `floor: local file copy alone, ${concurrency} at once`;
}

export function hashFloorLabel(threads: number, tasks: number): string {
  return `floor: read + quickXorHash, ${threads}×${tasks}`;
}

/**
 * One part of an import done alone on `spec` by bench/floors.ts (hash: `threads` × `concurrency`;
 * target: `concurrency` at once, through a fresh emulator with `latencyMs` for onedrive; copy: into
 * a fresh migrated database). Its time is the work's alone, not the process's.
 */
export async function measureFloor(ctx: BenchContext, row: Row, mode: FloorMode, spec: GridSpec, target: TargetKind, o: { concurrency: number; threads?: number; latencyMs?: number }): Promise<Sample> {
  const { pg, options } = ctx;
  let emu: EmulatorProcess | null = null;
  let db: string | null = null;
  const localRoot = path.join(ctx.work, `drive-floor-${ctx.nextId()}`);
  try {
    const args = [path.join(ctx.build.distBench, 'floors.js'), mode, '--spec', JSON.stringify(spec)];
    const env = cleanEnv();
    if (mode === 'hash') args.push('--threads', String(o.threads ?? 1), '--concurrency', String(o.concurrency));
    else if (mode === 'target') {
      if (target === 'local') args.push('--kind', 'local', '--local-root', localRoot, '--concurrency', String(o.concurrency));
      else {
        emu = await ctx.startEmulator(o.latencyMs ?? 0);
        env.VMB_GRAPH_TOKEN = emu.token;
        args.push('--kind', 'onedrive', '--graph-url', emu.url, '--drive-id', emu.driveId, '--remote-root', '/vmb', '--concurrency', String(o.concurrency), '--chunk-size', String(options.chunkSize), '--simple-max', String(options.simpleMax));
      }
    } else {
      db = `vmb_bench_copy${row.caseId}_${ctx.nextId()}`;
      const url = await pg.createDatabase(db);
      await migrate(ctx, url);
      args.push('--database-url', url, '--drive-id', 'drive-bench', '--remote-root', '/', '--key-kind', 'onedrive');
    }
    const { m, foreignCpu } = await measureChild(ctx, args, env);
    const out = lastJsonLine(m.stdout);
    const problems = m.code !== 0 || !out ? [`exit ${m.code}: ${stderrTail(m, 2, 300)}`] : [];
    let httpRequests: number | null = null;
    if (emu) {
      const es = await emulatorAfter(emu);
      httpRequests = es.stats.requests;
      problems.push(...es.problems);
    }
    const sample: Sample = {
      ms: out?.ms ?? m.wallMs,
      files: out?.files ?? 0,
      bytes: out?.bytes ?? 0,
      rssMb: m.peakRssMb,
      cpuS: m.cpuS,
      statements: null,
      connections: null,
      xacts: null,
      httpRequests,
      wrongCounts: null,
      foreignCpu,
      problems,
    };
    ctx.results.record(row, sample);
    return sample;
  } finally {
    await emu?.close();
    if (db) await pg.dropDatabase(db);
    await rm(localRoot, { recursive: true, force: true });
  }
}
