import type { BenchContext } from '../lib/context.js';
import { fileCount } from '../lib/datasets.js';
import { hashFloorLabel, measureFloor, targetFloorLabel } from '../lib/measure-floor.js';
import { measureImporter } from '../lib/measure-importer.js';
import { measureReference } from '../lib/measure-reference.js';
import { fmt } from '../lib/results.js';
import type { Unit } from '../lib/schedule.js';
import type { CaseRun } from './case.js';

/**
 * Cases 1 and 2: the small files uploaded at every thread count of --sweep (and the default), the
 * reference importer on the first --reference-files of them, and the floors. `floors`: 'all' runs
 * the target, hash and COPY floors in every round; 'target, once' only the target floor, in round 0.
 */
export function smallFilesSweep(ctx: BenchContext, caseId: number, run: CaseRun, floors: 'all' | 'target, once'): Unit {
  const o = ctx.options;
  const { target, latencyMs } = run;
  const small = ctx.sets.small;
  const N = o.threads * o.tasks;
  const points = [...new Set([...o.sweep, o.threads])].sort((a, b) => a - b);
  const unit: Unit = {
    name: `case ${caseId} (${target})`,
    repeatMs: 0,
    round: async (r) => {
      for (const t of points) {
        if (r > 0 && t !== o.threads && r >= o.sweepRuns) continue;
        const row = ctx.results.row(caseId, target, 'importer', `vmb-import ${t}×${o.tasks}`, { threads: t, tasks: o.tasks, latencyMs });
        const t0 = Date.now();
        await measureImporter(ctx, row, small, target, { threads: t, tasks: o.tasks, latencyMs, expectUploaded: fileCount(small) });
        if (t === o.threads && r === 0) unit.repeatMs += Date.now() - t0;
      }
      if (o.reference && r < o.referenceRuns) {
        const limit = o.referenceFiles > 0 && o.referenceFiles < fileCount(small) ? o.referenceFiles : undefined;
        const row = ctx.results.row(caseId, target, 'reference', `reference importer, ${N} at once${limit ? `, first ${fmt.n(limit)} files` : ''}`, { concurrency: N, latencyMs });
        await measureReference(ctx, row, small, target, { concurrency: N, latencyMs, limit });
      }
      if (o.floors && (floors === 'all' || r === 0)) {
        const t0 = Date.now();
        await measureFloor(ctx, ctx.results.row(caseId, target, 'floor-target', targetFloorLabel(target, N), { concurrency: N, latencyMs }), 'target', small, target, { concurrency: N, latencyMs });
        if (floors === 'all') {
          await measureFloor(ctx, ctx.results.row(caseId, target, 'floor-hash', hashFloorLabel(o.threads, o.tasks), { threads: o.threads, tasks: o.tasks }), 'hash', small, target, { concurrency: o.tasks, threads: o.threads });
          await measureFloor(ctx, ctx.results.row(caseId, target, 'floor-copy', 'floor: COPY the rows alone, 1 connection'), 'copy', small, target, { concurrency: 1 });
          if (r === 0) unit.repeatMs += Date.now() - t0;
        }
      }
    },
  };
  return unit;
}
