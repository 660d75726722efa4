import path from 'node:path';
import pg from 'pg';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { copyLine } from '../../src/ledger/copy-text.js';
import { cleanEnv, lastJsonLine } from '../lib/cli.js';
import type { BenchContext } from '../lib/context.js';
import type { EmulatorProcess, SeedSpec, SeededItem } from '../lib/emulator.js';
import { copyItems } from '../lib/ledger-rows.js';
import { measureChild, stderrTail } from '../lib/measured-child.js';
import { migrate } from '../lib/migrate.js';
import { processSample } from '../lib/results.js';
import type { Unit } from '../lib/schedule.js';
import type { BenchCase } from './case.js';

const REMOTE_ROOT = '/vmb';
/** 10 corps × 100 folders × 99 files: 99,000 files and 1,010 folders, 100,010 items. */
const FULL: SeedSpec = { remoteRoot: REMOTE_ROOT, corps: 10, folders: 100, files: 99, size: 16 };
/** --quick: a tenth. */
const QUICK: SeedSpec = { ...FULL, corps: 1 };

/**
 * Case 6: `vmb-import check` of a ledger of 100,000 items against a matching drive on the emulator
 * (seeded out of band, the ledger by one COPY): the first check lists the whole drive by delta, the
 * second only the changes since the deltaLink the first one kept (none). Time and Graph requests of
 * each; both must find no difference.
 */
export const checkCase: BenchCase = {
  id: 6,
  title: 'check of 100,000 items',
  needs: { onedriveOnly: 'the delta feed and its stored deltaLink are OneDrive’s; a local check walks the folder every time', latency: false, sets: [] },
  plan(ctx) {
    const spec = ctx.options.quick ? QUICK : FULL;
    const unit: Unit = {
      name: 'case 6',
      repeatMs: 0,
      round: async (r) => {
        const t0 = Date.now();
        await fullThenIncremental(ctx, spec);
        if (r === 0) unit.repeatMs = Date.now() - t0;
      },
    };
    return [unit];
  },
};

async function fullThenIncremental(ctx: BenchContext, spec: SeedSpec): Promise<void> {
  const name = `vmb_bench_c6_${ctx.nextId()}`;
  const url = await ctx.pg.createDatabase(name);
  const emu = await ctx.startEmulator(0);
  try {
    const items = await emu.seed(spec);
    await migrate(ctx, url);
    await seedLedger(url, emu, spec, items);
    for (const label of ['first check: full listing by delta', 'second check: from the stored deltaLink']) {
      const before = await emu.stats();
      const args = [ctx.build.bin, 'check', '--database-url', url, '--json', '--no-progress', '--data-dir', path.join(ctx.work, 'data'), '--target', 'onedrive', '--graph-url', emu.url, '--drive-id', emu.driveId, '--remote-root', REMOTE_ROOT];
      const { m, foreignCpu } = await measureChild(ctx, args, cleanEnv({ VMB_GRAPH_TOKEN: emu.token }));
      const after = await emu.stats();
      const summary = lastJsonLine(m.stdout) ?? {};
      const problems: string[] = [];
      if (m.code !== 0) problems.push(`exit code ${m.code}: ${stderrTail(m, 3, 400)}`);
      if (summary.status !== 'clean') problems.push(`status ${summary.status}, expected clean`);
      if (summary.rows !== items.length || summary.items !== items.length) problems.push(`compared ${summary.rows} rows with ${summary.items} items, expected ${items.length} each`);
      ctx.results.record(ctx.results.row(6, 'onedrive', 'importer', `${label} (${summary.listing?.pages ?? '?'} pages)`, {}), processSample({
        ms: m.wallMs,
        files: items.length,
        bytes: 0,
        rssMb: m.peakRssMb,
        cpuS: m.cpuS,
        httpRequests: after.requests - before.requests,
        foreignCpu,
        problems,
        innerMs: summary.durationMs,
      }));
    }
  } finally {
    await emu.close();
    await ctx.pg.dropDatabase(name);
  }
}

/** The rows an import of the seeded drive would have left, by one COPY. */
async function seedLedger(url: string, emu: EmulatorProcess, spec: SeedSpec, items: SeededItem[]): Promise<void> {
  const hash = quickXorHashBase64(Buffer.alloc(spec.size, 1));
  const client = new pg.Client({ connectionString: url, application_name: 'vmb-bench/seed' });
  // A dropped connection fails the COPY it carries; without a listener it would crash the harness.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const mtime = new Date(0).toISOString();
    await copyItems(
      client,
      items.map((i) =>
        copyLine([
          i.corp, emu.driveId, REMOTE_ROOT, i.id, i.parentId, i.name, i.path, i.isFolder,
          i.isFolder ? null : spec.size, i.isFolder ? null : hash, i.isFolder ? null : hash, i.path, i.isFolder ? null : spec.size, i.isFolder ? null : mtime, i.childCount, null,
        ]),
      ),
    );
  } finally {
    await client.end();
  }
}
