/**
 * `node dist/bench/ab.js`: an interleaved A/B of builds of vmb-import on one case of the benchmark.
 * On the 2-core benchmark machine one run differs from the next by ±20%, and the machine itself
 * from one hour to the next by more, so a change is judged by running the builds turn about, several
 * times each, and comparing medians. Besides wall time it reports the CPU of the importer, of
 * PostgreSQL and of the emulator, which move less than the wall time does.
 *
 *   node dist/bench/ab.js [--app DIR]... [--case 1|3] [--runs N] [--threads N] [--tasks-per-thread N]
 *                         [--latency MS] [--node-flags "FLAGS"] [--work DIR]
 *
 * `--app DIR`, repeatable: a built checkout (dist/, bin/, sql/, node_modules/) to measure; default
 * this one. To compare with an older commit: `git worktree add /tmp/old COMMIT && (cd /tmp/old &&
 * npm ci && npm run build)`, then `--app /tmp/old --app .`. Case 1 is 20,000 files of 4 KiB, case 3
 * 40 of 64 MiB, as in `npm run bench`; the data set is generated once in the work directory
 * (default: the system temp directory) and kept for the next A/B.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { largeFiles, smallFiles } from './lib/bench-sets.js';
import { cleanEnv, importArgs, lastJsonLine } from './lib/cli.js';
import { cpuSecondsOf } from './lib/cpu-share.js';
import { generate } from './lib/datasets.js';
import { emulatorMainIn, startEmulator } from './lib/emulator.js';
import { startBenchServer } from './lib/pg-server.js';
import { runMeasured } from './lib/proc.js';
import { cliIn } from './lib/snapshot.js';

const HERE = fileURLToPath(new URL('../../', import.meta.url));

interface Sample {
  ms: number;
  cpuS: number;
  pgS: number;
  emuS: number;
  bytes: number;
  files: number;
}

const say = (m: string) => process.stdout.write(`${m}\n`);
const postgresCpu = () => cpuSecondsOf((comm) => comm === 'postgres');
const emulatorCpu = () => cpuSecondsOf((_comm, cmdline) => cmdline.includes('emulator-main'));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      app: { type: 'string', multiple: true },
      case: { type: 'string', default: '1' },
      runs: { type: 'string', default: '5' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      'tasks-per-thread': { type: 'string', default: '16' },
      latency: { type: 'string', default: '0' },
      'node-flags': { type: 'string', default: '' },
      work: { type: 'string', default: os.tmpdir() },
    },
  });
  const apps = (values.app ?? [HERE]).map((a) => path.resolve(a));
  for (const app of apps) if (!existsSync(path.join(app, 'dist', 'src', 'cli', 'main.js'))) throw new Error(`${app} has no build: run npm run build there`);
  const caseId = values.case === '3' ? 3 : 1;
  const runs = Number(values.runs);
  const work = values.work!;
  const spec = caseId === 1 ? smallFiles(path.join(work, 'vmb-ab-small'), false) : largeFiles(path.join(work, 'vmb-ab-large'), false);
  const rate = (s: Sample) => (caseId === 1 ? `${Math.round((s.files * 1000) / s.ms)} files/s` : `${Math.round(s.bytes / 1e3 / s.ms)} MB/s`);

  if (!existsSync(spec.root)) await generate(spec, say);
  const pg = await startBenchServer({ fast: false });
  const samples: Sample[][] = apps.map(() => []);
  try {
    for (let i = 0; i < runs * apps.length; i++) {
      const which = i % apps.length;
      const app = apps[which];
      const db = `vmb_ab_${i}`;
      const url = await pg.createDatabase(db);
      const emu = await startEmulator(Number(values.latency), emulatorMainIn(apps[0]));
      try {
        const args = [
          ...values['node-flags']!.split(' ').filter(Boolean),
          // No chunk-size flags: ab has always measured with the CLI's own defaults.
          ...importArgs({ bin: cliIn(app), root: spec.root, databaseUrl: url, dataDir: path.join(work, 'vmb-ab-data'), threads: Number(values.threads), tasks: Number(values['tasks-per-thread']), target: { kind: 'onedrive', emulator: emu } }),
        ];
        const pg0 = postgresCpu();
        const emu0 = emulatorCpu();
        const m = await runMeasured(process.execPath, args, { env: cleanEnv({ VMB_GRAPH_TOKEN: emu.token }), timeoutMs: 20 * 60_000 });
        const sample = { ms: m.wallMs, cpuS: m.cpuS ?? NaN, pgS: postgresCpu() - pg0, emuS: emulatorCpu() - emu0, bytes: 0, files: 0 };
        const summary = lastJsonLine(m.stdout) as { uploaded?: number; failed?: number; bytesUploaded?: number } | null;
        if (m.code !== 0 || !summary || summary.failed) throw new Error(`${app}: exit ${m.code}, ${summary?.failed ?? '?'} failed: ${m.stderr.slice(-500)}`);
        sample.files = summary.uploaded ?? 0;
        sample.bytes = summary.bytesUploaded ?? 0;
        samples[which].push(sample);
        say(`${app} run ${samples[which].length}: ${(sample.ms / 1000).toFixed(2)} s, ${rate(sample)}, importer ${sample.cpuS.toFixed(2)} CPU-s, PostgreSQL ${sample.pgS.toFixed(2)}, emulator ${sample.emuS.toFixed(2)}`);
      } finally {
        await emu.close();
        await pg.dropDatabase(db);
      }
    }
  } finally {
    await pg.stop();
  }

  say(`\ncase ${caseId}, ${values.threads} × ${values['tasks-per-thread']}, latency ${values.latency} ms, ${runs} runs each, interleaved; medians:\n`);
  say('| build | wall s | throughput | importer CPU s | PostgreSQL CPU s | emulator CPU s |');
  say('|---|---:|---:|---:|---:|---:|');
  for (const [i, app] of apps.entries()) {
    const s = samples[i];
    const mid: Sample = { ms: median(s.map((x) => x.ms)), cpuS: median(s.map((x) => x.cpuS)), pgS: median(s.map((x) => x.pgS)), emuS: median(s.map((x) => x.emuS)), bytes: s[0].bytes, files: s[0].files };
    say(`| ${app} | ${(mid.ms / 1000).toFixed(2)} | ${rate(mid)} | ${mid.cpuS.toFixed(2)} | ${mid.pgS.toFixed(2)} | ${mid.emuS.toFixed(2)} |`);
  }
}

/** The upper middle value for an even count (results.ts's median averages the two), as ab has always reported. */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

await main();
