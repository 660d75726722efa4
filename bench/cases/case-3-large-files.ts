import { fileCount } from '../lib/datasets.js';
import { hashFloorLabel, measureFloor, targetFloorLabel } from '../lib/measure-floor.js';
import { measureImporter } from '../lib/measure-importer.js';
import { measureReference } from '../lib/measure-reference.js';
import type { Unit } from '../lib/schedule.js';
import type { BenchCase } from './case.js';

/** Case 3: 40 files of 64 MiB (upload sessions) at the default threads, with its floors and the reference. */
export const largeFilesCase: BenchCase = {
  id: 3,
  title: '40 files of 64 MiB',
  needs: { latency: false, sets: ['large'] },
  plan(ctx, { target, latencyMs }) {
    const o = ctx.options;
    const large = ctx.sets.large;
    const N = o.threads * o.tasks;
    const unit: Unit = {
      name: `case 3 (${target})`,
      repeatMs: 0,
      round: async (r) => {
        const t0 = Date.now();
        const row = ctx.results.row(3, target, 'importer', `vmb-import ${o.threads}×${o.tasks}`, { threads: o.threads, tasks: o.tasks, latencyMs });
        await measureImporter(ctx, row, large, target, { threads: o.threads, tasks: o.tasks, latencyMs, expectUploaded: fileCount(large) });
        if (o.floors) {
          await measureFloor(ctx, ctx.results.row(3, target, 'floor-target', targetFloorLabel(target, N), { concurrency: N }), 'target', large, target, { concurrency: N, latencyMs });
          await measureFloor(ctx, ctx.results.row(3, target, 'floor-hash', hashFloorLabel(o.threads, o.tasks), { threads: o.threads, tasks: o.tasks }), 'hash', large, target, { concurrency: o.tasks, threads: o.threads });
        }
        if (r === 0) unit.repeatMs = Date.now() - t0;
        if (o.reference && r < o.referenceRuns) {
          await measureReference(ctx, ctx.results.row(3, target, 'reference', `reference importer, ${N} at once`, { concurrency: N }), large, target, { concurrency: N, latencyMs });
        }
      },
    };
    return [unit];
  },
};
