/**
 * `npm run bench`: the benchmark of vmb-import on this machine. See docs/benchmarks.md.
 *
 *   node dist/bench/run.js [--quick] [--cases 1,2,3,4] [--runs N] [--budget-min M]
 *                          [--target local|onedrive|local,onedrive] [--sweep 1,2,4,6,8] [--sweep-runs N]
 *                          [--threads N] [--tasks-per-thread N] [--latency MS] [--chunk-size B] [--simple-max B]
 *                          [--reference-files N] [--reference-runs N] [--no-reference] [--no-floors]
 *                          [--work DIR] [--keep] [--pg-fast] [--timeout-min N] [--out FILE | --no-docs]
 *
 * Generates the data sets, starts a PostgreSQL and (for the onedrive target) the Graph emulator,
 * runs every case with the real CLI in a child process, and prints and writes medians. Every
 * measurement runs once; the ones the targets are judged on are repeated up to --runs times while
 * the time budget lasts. Nothing here asserts a target: the ratios are reported, never enforced.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dirCount, fileCount, generate, type GridSpec } from './lib/datasets.js';
import { cpuSnapshot, foreignShare } from './lib/cpu-share.js';
import { setEmulatorMain, startEmulator, type EmulatorProcess } from './lib/emulator.js';
import { startBenchServer, type BenchServer } from './lib/pg-server.js';
import { killMeasured, run, runMeasured, type Measured } from './lib/proc.js';
import { REFERENCE_CHECK } from './lib/reference-sql.js';
import { mergeResults, renderMarkdown, type Report } from './lib/report.js';
import { fmt, type Row, type RowKind, type Sample } from './lib/results.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Set by `snapshot()`: the copy of the build every child process runs from. */
let APP = REPO;
let BIN = path.join(REPO, 'bin', 'vmb-import.js');
let DIST_BENCH = fileURLToPath(new URL('./', import.meta.url));
const NODE = process.execPath;
const MiB = 1024 * 1024;
const CHUNK_QUANTUM = 327_680;

type TargetKind = 'local' | 'onedrive';

interface Options {
  quick: boolean;
  cases: number[];
  runs: number;
  targets: TargetKind[];
  sweep: number[];
  threads: number;
  tasks: number;
  latencyMs: number;
  chunkSize: number;
  simpleMax: number;
  work: string | null;
  keep: boolean;
  pgFast: boolean;
  reference: boolean;
  floors: boolean;
  out: string | null;
  timeoutMs: number;
  sweepRuns: number;
  referenceRuns: number;
  referenceFiles: number;
  budgetMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      cases: { type: 'string', default: '1,2,3,4' },
      runs: { type: 'string' },
      target: { type: 'string' },
      sweep: { type: 'string', default: '1,2,4,6,8' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      'tasks-per-thread': { type: 'string', default: '16' },
      latency: { type: 'string', default: '50' },
      'chunk-size': { type: 'string', default: String(32 * CHUNK_QUANTUM) },
      'simple-max': { type: 'string', default: String(4 * MiB) },
      work: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'pg-fast': { type: 'boolean', default: false },
      'no-reference': { type: 'boolean', default: false },
      'no-floors': { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
      'timeout-min': { type: 'string', default: '20' },
      'sweep-runs': { type: 'string', default: '1' },
      'reference-runs': { type: 'string', default: '1' },
      'reference-files': { type: 'string' },
      'budget-min': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^\/\*\*?/, '').replace(/^ \* ?/gm, '') + '\n');
    process.exit(0);
  }
  const ints = (s: string, what: string) =>
    s.split(',').map((x) => {
      const n = Number(x.trim());
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${what}: ${JSON.stringify(x)} is not a whole number ≥ 1`);
      return n;
    });
  const quick = values.quick!;
  const targets = (values.target ?? '').split(',').filter(Boolean) as TargetKind[];
  for (const t of targets) if (t !== 'local' && t !== 'onedrive') throw new Error(`--target ${t}: use local, onedrive or local,onedrive`);
  const cases = ints(values.cases!, 'cases');
  for (const c of cases) if (c > 4) throw new Error(`--cases: there is no case ${c}`);
  return {
    quick,
    cases,
    runs: values.runs ? ints(values.runs, 'runs')[0] : quick ? 1 : 3,
    targets,
    sweep: ints(values.sweep!, 'sweep'),
    threads: ints(values.threads!, 'threads')[0],
    tasks: ints(values['tasks-per-thread']!, 'tasks-per-thread')[0],
    latencyMs: ints(values.latency!, 'latency')[0],
    chunkSize: ints(values['chunk-size']!, 'chunk-size')[0],
    simpleMax: ints(values['simple-max']!, 'simple-max')[0],
    work: values.work ?? null,
    keep: values.keep!,
    pgFast: values['pg-fast']!,
    reference: !values['no-reference'],
    floors: !values['no-floors'],
    out: values['no-docs'] ? null : path.resolve(values.out ?? path.join(REPO, 'docs', 'benchmarks.md')),
    timeoutMs: ints(values['timeout-min']!, 'timeout-min')[0] * 60_000,
    sweepRuns: ints(values['sweep-runs']!, 'sweep-runs')[0],
    referenceRuns: ints(values['reference-runs']!, 'reference-runs')[0],
    referenceFiles: values['reference-files'] !== undefined ? Number(values['reference-files']) : quick ? 500 : 1000,
    budgetMs: values['budget-min'] !== undefined ? Number(values['budget-min']) * 60_000 : quick ? 0 : 30 * 60_000,
  };
}

/** Only what the CLI needs: no VMB_* or DATABASE_URL from the caller's shell leaks into a run. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', ...extra };
}

const log = (m: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

/**
 * Other people rebuild dist/ in this tree while the benchmark runs (a run that met a half-written
 * build failed every file). So the build is copied once, at the start, into the work directory
 * (dist, bin, sql, package.json; node_modules linked), and every child process runs that copy.
 */
async function snapshot(work: string): Promise<void> {
  const app = path.join(work, 'app');
  await rm(app, { recursive: true, force: true });
  await mkdir(app, { recursive: true });
  for (const part of ['dist', 'bin', 'sql', 'package.json']) await cp(path.join(REPO, part), path.join(app, part), { recursive: true });
  await symlink(path.join(REPO, 'node_modules'), path.join(app, 'node_modules'), 'dir');
  APP = app;
  BIN = path.join(app, 'bin', 'vmb-import.js');
  DIST_BENCH = path.join(app, 'dist', 'bench');
  setEmulatorMain(path.join(DIST_BENCH, 'emulator-main.js'));
}

interface Capabilities {
  onedrive: boolean;
  flags: Set<string>;
}

/** What this build of the CLI offers, read from --help, so the bench follows the CLI as it grows. */
async function capabilities(): Promise<Capabilities> {
  const help = await run(NODE, [BIN, '--help'], { env: cleanEnv(), timeoutMs: 60_000 });
  const flags = new Set([...help.matchAll(/--([a-z][a-z-]+)/g)].map((m) => m[1]));
  const targetBlock = /--target\b[^\n]*(?:\n(?!\s+--)[^\n]*)*/.exec(help)?.[0] ?? '';
  return { onedrive: /onedrive/.test(targetBlock), flags };
}

class Bench {
  readonly rows: Row[] = [];
  private seq = 0;
  constructor(
    readonly o: Options,
    readonly pg: BenchServer,
    readonly caps: Capabilities,
    readonly work: string,
  ) {}

  row(caseId: number, target: TargetKind, kind: RowKind, label: string, extra: Partial<Row> = {}): Row {
    const existing = this.rows.find((r) => r.caseId === caseId && r.target === target && r.label === label);
    if (existing) return existing;
    const r: Row = { caseId, target, kind, label, samples: [], ...extra };
    this.rows.push(r);
    return r;
  }

  private dbName(tag: string): string {
    return `vmb_bench_${tag}_${++this.seq}`;
  }

  /** Target arguments for the CLI. */
  targetArgs(target: TargetKind, localRoot: string, emu: EmulatorProcess | null): string[] {
    if (target === 'local') return ['--target', 'local', '--local-root', localRoot];
    const f = this.caps.flags;
    return [
      '--target', 'onedrive', '--graph-url', emu!.url, '--drive-id', emu!.driveId,
      ...(f.has('remote-root') ? ['--remote-root', '/vmb'] : []),
      ...(f.has('chunk-size') ? ['--chunk-size', String(this.o.chunkSize)] : []),
      ...(f.has('simple-upload-max') ? ['--simple-upload-max', String(this.o.simpleMax)] : []),
    ];
  }

  async migrate(url: string): Promise<void> {
    await run(NODE, [BIN, 'migrate', '--database-url', url, '--json', '--no-progress', '--data-dir', path.join(this.work, 'data')], { env: cleanEnv(), timeoutMs: 120_000 });
  }

  /**
   * One run of the real CLI: a fresh database (unless `db` is given: a seeded ledger) and, for
   * onedrive, a fresh emulator; measured from outside; checked afterwards.
   */
  async importer(
    row: Row,
    spec: GridSpec,
    target: TargetKind,
    o: { threads: number; tasks: number; latencyMs: number; expectUploaded: number; db?: { name: string; url: string }; localRoot?: string; extraArgs?: string[] },
  ): Promise<Sample> {
    const own = !o.db;
    const name = o.db?.name ?? this.dbName(`c${row.caseId}`);
    const url = o.db?.url ?? (await this.pg.createDatabase(name));
    const localRoot = o.localRoot ?? path.join(this.work, `drive-${this.seq}`);
    const emu = target === 'onedrive' ? await startEmulator(o.latencyMs) : null;
    const before = this.pg.counts(name);
    const stmtsBefore = await this.pg.statements(name);
    const statsBefore = await this.pg.stats(name);
    try {
      const args = [
        BIN, spec.root, '--database-url', url, '--json', '--no-progress', '--data-dir', path.join(this.work, 'data'),
        '--threads', String(o.threads), '--tasks-per-thread', String(o.tasks),
        ...this.targetArgs(target, localRoot, emu),
        ...(o.extraArgs ?? []),
      ];
      const cpu0 = cpuSnapshot();
      const m = await runMeasured(NODE, args, { env: cleanEnv(emu ? { VMB_GRAPH_TOKEN: emu.token } : {}), timeoutMs: this.o.timeoutMs });
      const foreignCpu = foreignShare(cpu0, cpuSnapshot());
      const after = this.pg.counts(name);
      const stmts = await this.pg.statements(name);
      const stats = await this.pg.stats(name);
      const problems: string[] = [];
      let summary: Record<string, any> = {};
      try {
        summary = JSON.parse(m.stdout.trim().split('\n').pop() ?? '');
      } catch {
        problems.push(`no JSON summary (exit ${m.code}${m.timedOut ? ', timed out' : ''}): ${m.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`);
      }
      if (m.code !== 0) problems.push(`exit code ${m.code}${m.timedOut ? ' (timed out)' : ''}`);
      if (summary.failed > 0) problems.push(`${summary.failed} files failed (${(summary.failures ?? []).slice(0, 2).map((f: any) => `${f.code}: ${f.reason}`).join('; ')})`);
      if (summary.uploaded !== undefined && summary.uploaded !== o.expectUploaded) problems.push(`uploaded ${summary.uploaded}, expected ${o.expectUploaded}`);
      const files = fileCount(spec);
      if (summary.seen !== undefined && summary.seen !== files) problems.push(`saw ${summary.seen} of ${files} files`);
      let wrong: number | null = null;
      try {
        const check = await this.pg.query<{ wrong: number; rows: number }>(
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
        const es = await emu.stats();
        httpRequests = es.requests;
        if (o.expectUploaded > 0 && es.files !== o.expectUploaded) problems.push(`the drive holds ${es.files} files, expected ${o.expectUploaded}`);
        if (es.failed > 0) problems.push(`${es.failed} Graph requests failed (${JSON.stringify(es.failures)})`);
      }
      const byQuery: Record<string, number> = {};
      for (const [id, q] of stmts.byQuery) {
        const n = q.calls - (stmtsBefore.byQuery.get(id)?.calls ?? 0);
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
      row.samples.push(sample);
      this.say(row, sample);
      return sample;
    } finally {
      await emu?.close();
      if (own) await this.pg.dropDatabase(name);
      if (!o.localRoot) await rm(localRoot, { recursive: true, force: true });
    }
  }

  async reference(row: Row, spec: GridSpec, target: TargetKind, o: { concurrency: number; latencyMs: number; limit?: number }): Promise<void> {
    const name = this.dbName(`ref${row.caseId}`);
    const url = await this.pg.createDatabase(name);
    const localRoot = path.join(this.work, `drive-ref-${this.seq}`);
    const emu = target === 'onedrive' ? await startEmulator(o.latencyMs) : null;
    try {
      const args = [
        path.join(DIST_BENCH, 'reference-importer.js'), spec.root, '--database-url', url, '--concurrency', String(o.concurrency),
        ...(o.limit ? ['--limit', String(o.limit)] : []),
        ...(target === 'local'
          ? ['--target', 'local', '--local-root', localRoot]
          : ['--target', 'onedrive', '--graph-url', emu!.url, '--drive-id', emu!.driveId, '--remote-root', '/vmb', '--chunk-size', String(this.o.chunkSize), '--simple-max', String(this.o.simpleMax)]),
      ];
      const cpu0 = cpuSnapshot();
      const m = await runMeasured(NODE, args, { env: cleanEnv(emu ? { VMB_GRAPH_TOKEN: emu.token } : {}), timeoutMs: this.o.timeoutMs });
      const foreignCpu = foreignShare(cpu0, cpuSnapshot());
      const counts = this.pg.counts(name);
      const stmts = await this.pg.statements(name);
      const stats = await this.pg.stats(name);
      const out = parseLast(m);
      const problems: string[] = [];
      if (m.code !== 0 || !out) problems.push(`exit ${m.code}${m.timedOut ? ' (timed out)' : ''}: ${m.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`);
      if (out?.failed) problems.push(`${out.failed} items failed (${out.firstError})`);
      let wrong: number | null = null;
      try {
        const r = await this.pg.query<{ wrong: number; off_by: number; under: number }>(name, REFERENCE_CHECK);
        wrong = r.rows[0].wrong;
        if (wrong > 0) problems.push(`child_count wrong on ${wrong} of ${dirCount(spec)} folders (${r.rows[0].under} too low, off by ${r.rows[0].off_by} in all)`);
      } catch (err) {
        problems.push(`could not check child counts: ${(err as Error).message}`);
      }
      const httpRequests = emu ? (await emu.stats()).requests : null;
      const sample: Sample = {
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
      };
      row.samples.push(sample);
      this.say(row, sample);
    } finally {
      await emu?.close();
      await this.pg.dropDatabase(name);
      await rm(localRoot, { recursive: true, force: true });
    }
  }

  async floor(row: Row, mode: 'hash' | 'target' | 'copy', spec: GridSpec, target: TargetKind, o: { concurrency: number; threads?: number; latencyMs?: number; keyKind?: TargetKind }): Promise<Sample> {
    const specArg = JSON.stringify(spec);
    let emu: EmulatorProcess | null = null;
    let db: string | null = null;
    const localRoot = path.join(this.work, `drive-floor-${++this.seq}`);
    try {
      const args = [path.join(DIST_BENCH, 'floors.js'), mode, '--spec', specArg];
      const env = cleanEnv();
      if (mode === 'hash') args.push('--threads', String(o.threads ?? 1), '--concurrency', String(o.concurrency));
      else if (mode === 'target') {
        if (target === 'local') args.push('--kind', 'local', '--local-root', localRoot, '--concurrency', String(o.concurrency));
        else {
          emu = await startEmulator(o.latencyMs ?? 0);
          env.VMB_GRAPH_TOKEN = emu.token;
          args.push('--kind', 'onedrive', '--graph-url', emu.url, '--drive-id', emu.driveId, '--remote-root', '/vmb', '--concurrency', String(o.concurrency), '--chunk-size', String(this.o.chunkSize), '--simple-max', String(this.o.simpleMax));
        }
      } else {
        db = this.dbName(`copy${row.caseId}`);
        const url = await this.pg.createDatabase(db);
        await this.migrate(url);
        args.push('--database-url', url, '--drive-id', 'drive-bench', '--remote-root', '/', '--key-kind', 'onedrive');
      }
      const cpu0 = cpuSnapshot();
      const m = await runMeasured(NODE, args, { env, timeoutMs: this.o.timeoutMs });
      const foreignCpu = foreignShare(cpu0, cpuSnapshot());
      const out = parseLast(m);
      const problems = m.code !== 0 || !out ? [`exit ${m.code}: ${m.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`] : [];
      let httpRequests: number | null = null;
      if (emu) {
        const es = await emu.stats();
        httpRequests = es.requests;
        if (es.failed > 0) problems.push(`${es.failed} Graph requests failed (${JSON.stringify(es.failures)})`);
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
      row.samples.push(sample);
      this.say(row, sample);
      return sample;
    } finally {
      await emu?.close();
      if (db) await this.pg.dropDatabase(db);
      await rm(localRoot, { recursive: true, force: true });
    }
  }

  say(row: Row, s: Sample): void {
    s.load1 ??= os.loadavg()[0];
    const rate = (s.files * 1000) / s.ms;
    const mbs = s.bytes / 1e6 / (s.ms / 1000);
    const parts = [
      `[case ${row.caseId} ${row.target}] ${row.label}: ${fmt.n(s.files)} files in ${fmt.s(s.ms)} s`,
      `${fmt.n(rate)} files/s`,
      `${fmt.n(mbs, 1)} MB/s`,
      s.rssMb !== null ? `RSS ${fmt.n(s.rssMb)} MB` : null,
      s.statements !== null && s.files ? `${fmt.sig(s.statements / s.files)} stmts/file` : null,
      s.connections !== null ? `${s.connections} conns` : null,
      s.httpRequests !== null && s.files ? `${fmt.sig(s.httpRequests / s.files)} HTTP/file` : null,
      s.wrongCounts ? `${s.wrongCounts} wrong child counts` : null,
      s.foreignCpu ? `others used ${fmt.n(s.foreignCpu * 100)}% of the CPU` : null,
    ].filter(Boolean);
    log(parts.join(', '));
    for (const p of s.problems) log(`    ! ${p}`);
  }
}

/** A short name for a statement text from pg_stat_statements (the importer's come from sql/queries). */
function statementName(query: string): string {
  const q = query.replace(/--[^\n]*\n/g, ' ').replace(/\s+/g, ' ').trim();
  const known: [RegExp, string][] = [
    [/^COPY pg_temp\.vmb_stage/i, 'COPY into stage'],
    [/^WITH merged AS/i, 'merge-staged-files'],
    [/^SELECT remote_path, is_folder/i, 'find-ledger-entries'],
    [/^SELECT remote_path, onedrive_item_id/i, 'find-folders'],
    [/^WITH ins AS/i, 'insert-folder'],
    [/^CREATE TEMP TABLE/i, 'create-stage-table'],
    [/^(BEGIN|COMMIT|ROLLBACK)\b/i, '$1'],
  ];
  for (const [re, name] of known) {
    const m = re.exec(q);
    if (m) return name.replace('$1', (m[1] ?? '').toUpperCase());
  }
  return q.length > 48 ? `${q.slice(0, 48)}…` : q;
}

function parseLast(m: Measured): Record<string, any> | null {
  try {
    return JSON.parse(m.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return null;
  }
}

function machine(): Report['machine'] {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim() !== '';
  } catch {
    /* not a git checkout */
  }
  return {
    nproc: os.availableParallelism(),
    memoryGiB: os.totalmem() / 1024 ** 3,
    cpu,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    commit: dirty ? `${commit} (with uncommitted changes)` : commit,
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = Date.now();
  // Always a directory of our own (inside --work when given), so removing it removes nothing else.
  if (o.work) await mkdir(path.resolve(o.work), { recursive: true });
  const work = await mkdtemp(path.join(o.work ? path.resolve(o.work) : os.tmpdir(), 'vmb-bench-'));
  await snapshot(work);
  // The commit the copied build came from, taken when it was copied.
  const host = machine();
  const loadAtStart = os.loadavg()[0];
  if (loadAtStart > host.nproc / 2) log(`warning: the 1-minute load average is ${loadAtStart.toFixed(1)} on ${host.nproc} CPUs: other work is running, and the numbers will show it`);
  const caps = await capabilities();
  if (o.targets.length === 0) o.targets = [caps.onedrive ? 'onedrive' : 'local'];
  const notes: string[] = [];
  if (o.targets.includes('onedrive') && !caps.onedrive) {
    const msg = 'the CLI does not offer --target onedrive yet (not listed by --help): the onedrive target is skipped';
    log(msg);
    notes.push(msg);
    o.targets = o.targets.filter((t) => t !== 'onedrive');
    if (o.targets.length === 0) o.targets = ['local'];
  }
  log(`vmb-import benchmark: ${o.quick ? 'quick' : 'full'}, cases ${o.cases.join(',')}, targets ${o.targets.join(',')}, ${o.runs} run(s) each, work dir ${work}, build copied to ${APP} from commit ${host.commit}`);

  let pg: BenchServer | null = null;
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    await pg?.stop().catch(() => undefined);
    if (!o.keep) await rm(work, { recursive: true, force: true }).catch(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    log(`${sig}: cleaning up`);
    killMeasured();
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    pg = await startBenchServer({ fast: o.pgFast });
    log(`PostgreSQL: ${pg.version.split(',')[0]} (${pg.settings})`);
    const bench = new Bench(o, pg, caps, work);
    const q = o.quick;
    const N = o.threads * o.tasks;
    const small: GridSpec = { root: path.join(work, 'small'), corps: [1001, 1002, 1003, 1004, 1005], folders: 20, subfolders: 0, filesPerDir: q ? 20 : 200, size: 4096 };
    const large: GridSpec = { root: path.join(work, 'large'), corps: [7], folders: q ? 1 : 2, subfolders: 0, filesPerDir: q ? 4 : 20, size: 64 * MiB };
    const million: GridSpec = { root: path.join(work, 'million'), corps: [1, 2, 3, 4, 5], folders: 20, subfolders: 10, filesPerDir: q ? 50 : 1000, size: 0, fixedMtimeMs: 1_700_000_000_000 };
    const noop20k: GridSpec = { ...million, root: path.join(work, 'noop-small'), filesPerDir: q ? 2 : 20 };

    const deadline = o.budgetMs > 0 ? started + o.budgetMs : Infinity;
    const skipped: string[] = [];
    const removeTree = async (dir: string) => {
      const t0 = performance.now();
      await run('rm', ['-rf', '--', dir], { timeoutMs: 600_000 }).catch(() => rm(dir, { recursive: true, force: true }));
      log(`removed ${dir} in ${fmt.s(performance.now() - t0)} s`);
    };
    const targetFloorLabel = (target: TargetKind) => (target === 'onedrive' ? `floor: emulator alone, ${N} at once` : `floor: local file copy alone, ${N} at once`);

    /**
     * One unit of work per case and target and round. Round 0 is everything (the whole sweep, the
     * reference, the floors); later rounds repeat what the targets are judged on (the default
     * thread count, the floors of cases 1 and 3, the no-op runs), while the time budget allows.
     */
    interface Unit {
      name: string;
      setup?: () => Promise<void>;
      round: (r: number) => Promise<void>;
      teardown?: () => Promise<void>;
      /** How long a repeat took (measured in round 0, or the last repeat). */
      repeatMs: number;
    }
    const units: Unit[] = [];

    const needSmall = o.cases.includes(1) || o.cases.includes(2);
    for (const target of o.targets) {
      for (const caseId of [1, 2].filter((c) => o.cases.includes(c))) {
        const latencyMs = caseId === 2 ? o.latencyMs : 0;
        if (caseId === 2 && target === 'local') {
          const msg = 'case 2 (latency per Graph request) does not apply to the local target; skipped for it';
          log(msg);
          notes.push(msg);
          continue;
        }
        const points = [...new Set([...o.sweep, o.threads])].sort((a, b) => a - b);
        const unit: Unit = {
          name: `case ${caseId} (${target})`,
          repeatMs: 0,
          round: async (r) => {
            for (const t of points) {
              if (r > 0 && t !== o.threads && r >= o.sweepRuns) continue;
              const row = bench.row(caseId, target, 'importer', `vmb-import ${t}×${o.tasks}`, { threads: t, tasks: o.tasks, latencyMs });
              const t0 = Date.now();
              await bench.importer(row, small, target, { threads: t, tasks: o.tasks, latencyMs, expectUploaded: fileCount(small) });
              if (t === o.threads && r === 0) unit.repeatMs += Date.now() - t0;
            }
            if (o.reference && r < o.referenceRuns) {
              const limit = o.referenceFiles > 0 && o.referenceFiles < fileCount(small) ? o.referenceFiles : undefined;
              const row = bench.row(caseId, target, 'reference', `reference importer, ${N} at once${limit ? `, first ${fmt.n(limit)} files` : ''}`, { concurrency: N, latencyMs });
              await bench.reference(row, small, target, { concurrency: N, latencyMs, limit });
            }
            // Case 2's emulator floor is N ÷ latency by construction: measured in round 0 only.
            if (o.floors && (caseId === 1 || r === 0)) {
              const t0 = Date.now();
              await bench.floor(bench.row(caseId, target, 'floor-target', targetFloorLabel(target), { concurrency: N, latencyMs }), 'target', small, target, { concurrency: N, latencyMs });
              if (caseId === 1) {
                await bench.floor(bench.row(caseId, target, 'floor-hash', `floor: read + quickXorHash, ${o.threads}×${o.tasks}`, { threads: o.threads, tasks: o.tasks }), 'hash', small, target, { concurrency: o.tasks, threads: o.threads });
                await bench.floor(bench.row(caseId, target, 'floor-copy', 'floor: COPY the rows alone, 1 connection'), 'copy', small, target, { concurrency: 1 });
                if (r === 0) unit.repeatMs += Date.now() - t0;
              }
            }
          },
        };
        units.push(unit);
      }
    }

    if (o.cases.includes(3)) {
      for (const target of o.targets) {
        const unit: Unit = {
          name: `case 3 (${target})`,
          repeatMs: 0,
          round: async (r) => {
            const t0 = Date.now();
            const row = bench.row(3, target, 'importer', `vmb-import ${o.threads}×${o.tasks}`, { threads: o.threads, tasks: o.tasks, latencyMs: 0 });
            await bench.importer(row, large, target, { threads: o.threads, tasks: o.tasks, latencyMs: 0, expectUploaded: fileCount(large) });
            if (o.floors) {
              await bench.floor(bench.row(3, target, 'floor-target', targetFloorLabel(target), { concurrency: N }), 'target', large, target, { concurrency: N, latencyMs: 0 });
              await bench.floor(bench.row(3, target, 'floor-hash', `floor: read + quickXorHash, ${o.threads}×${o.tasks}`, { threads: o.threads, tasks: o.tasks }), 'hash', large, target, { concurrency: o.tasks, threads: o.threads });
            }
            if (r === 0) unit.repeatMs = Date.now() - t0;
            if (o.reference && r < o.referenceRuns) {
              await bench.reference(bench.row(3, target, 'reference', `reference importer, ${N} at once`, { concurrency: N }), large, target, { concurrency: N, latencyMs: 0 });
            }
          },
        };
        units.push(unit);
      }
    }

    if (o.cases.includes(4)) {
      for (const target of o.targets) {
        for (const spec of [noop20k, million]) {
          const localRoot = path.join(work, `drive-noop-${target}-${fileCount(spec)}`);
          const key = target === 'onedrive' ? { driveId: 'drive-bench', remoteRoot: '/vmb' } : { driveId: `local:${localRoot}`, remoteRoot: '/' };
          const name = `vmb_bench_c4_${fileCount(spec)}_${target}`;
          let url = '';
          const unit: Unit = {
            name: `case 4 (${target}, ${fmt.n(fileCount(spec))} files)`,
            repeatMs: 0,
            setup: async () => {
              await mkdir(localRoot, { recursive: true });
              url = await pg!.createDatabase(name);
              await bench.migrate(url);
              // The ledger of a finished import, written by one COPY: that COPY is case 4's COPY floor.
              const seedRow = bench.row(4, target, 'floor-copy', `seed the ledger: COPY ${fmt.n(fileCount(spec))} rows, 1 connection`);
              const t0 = performance.now();
              const seed = await runMeasured(
                NODE,
                [path.join(DIST_BENCH, 'floors.js'), 'copy', '--spec', JSON.stringify(spec), '--database-url', url, '--drive-id', key.driveId, '--remote-root', key.remoteRoot, '--key-kind', target],
                { env: cleanEnv(), timeoutMs: o.timeoutMs },
              );
              const seeded = parseLast(seed);
              if (seed.code !== 0 || !seeded) throw new Error(`seeding the ledger failed: ${seed.stderr.slice(-1000)}`);
              seedRow.samples.push({ ms: seeded.ms, files: seeded.files, bytes: 0, rssMb: seed.peakRssMb, cpuS: seed.cpuS, statements: null, connections: null, xacts: null, httpRequests: null, wrongCounts: null, problems: [] });
              bench.say(seedRow, seedRow.samples[seedRow.samples.length - 1]);
              await pg!.query(name, 'VACUUM ANALYZE corporate.vmb_items');
              log(`seeded and analysed ${fmt.n(fileCount(spec))} ledger rows in ${fmt.s(performance.now() - t0)} s`);
            },
            round: async () => {
              const t0 = Date.now();
              const row = bench.row(4, target, 'importer', `vmb-import no-op, ${fmt.n(fileCount(spec))} files, ${o.threads}×${o.tasks}`, { threads: o.threads, tasks: o.tasks });
              await bench.importer(row, spec, target, { threads: o.threads, tasks: o.tasks, latencyMs: 0, expectUploaded: 0, db: { name, url }, localRoot });
              unit.repeatMs = Date.now() - t0;
            },
            teardown: async () => {
              await pg!.dropDatabase(name);
              await rm(localRoot, { recursive: true, force: true });
            },
          };
          units.push(unit);
        }
      }
    }

    // Data sets first (the large and the empty ones only when their cases run), then round 0.
    if (needSmall) await generate(small, log);
    if (o.cases.includes(3)) await generate(large, log);
    if (o.cases.includes(4)) {
      await generate(noop20k, log);
      await generate(million, log);
    }
    try {
      for (const u of units) {
        await u.setup?.();
        await u.round(0);
        log(`${u.name}: round 1 done, ${fmt.n((Date.now() - started) / 60000, 1)} min elapsed`);
      }
      // Later rounds while the budget lasts (one minute kept for cleaning up).
      for (let r = 1; r < o.runs; r++) {
        for (const u of units) {
          if (Date.now() + u.repeatMs + 60_000 > deadline) {
            skipped.push(`${u.name}, run ${r + 1}`);
            continue;
          }
          await u.round(r);
        }
      }
    } finally {
      for (const u of units) await u.teardown?.().catch((err: unknown) => log(`clean-up of ${u.name} failed: ${(err as Error).message}`));
      for (const dir of [small.root, large.root, noop20k.root, million.root]) if (existsSync(dir)) await removeTree(dir);
    }
    if (skipped.length) {
      const msg = `time budget (--budget-min ${o.budgetMs / 60000}): skipped ${skipped.join('; ')}; the medians of those rows are over fewer runs`;
      log(msg);
      notes.push(msg);
    }

    const report: Report = {
      when: new Date().toISOString(),
      mode: o.quick ? 'quick' : 'full',
      command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
      machine: host,
      postgres: `${pg.version.split(',')[0]}; ${pg.settings}`,
      options: { runs: o.runs, threads: o.threads, tasks: o.tasks, sweep: o.sweep, latencyMs: o.latencyMs, chunkSize: o.chunkSize, simpleMax: o.simpleMax, targets: o.targets, cases: o.cases },
      sets: { small, large, million, noop20k },
      rows: bench.rows,
      notes,
      totalMs: Date.now() - started,
      loadAtStart,
    };
    const md = renderMarkdown(report);
    process.stdout.write(`\n${md.split('<!-- results -->')[1] ?? md}\n`);
    if (o.out) {
      await mkdir(path.dirname(o.out), { recursive: true });
      const previous = existsSync(o.out) ? readFileSync(o.out, 'utf8') : null;
      await writeFile(o.out, mergeResults(previous, md));
      log(`wrote ${o.out}`);
    }
    log(`done in ${fmt.s(Date.now() - started)} s`);
  } finally {
    await cleanup();
  }
}

/** Set by Ctrl-C / SIGTERM: the signal handler cleans up and exits; what the interrupted run throws meanwhile is moot. */
let interrupted = false;

if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build`);
try {
  await main();
} catch (err) {
  if (!interrupted) throw err;
  // The signal handler is removing the work directory and will exit; wait for it.
  await new Promise(() => undefined);
}
