import type { BenchSets } from './bench-sets.js';
import type { GridSpec } from './datasets.js';
import { dirCount, fileCount } from './datasets.js';
import { fmt, median, summarize, type Row, type Summary } from './results.js';

export interface Report {
  when: string;
  mode: 'quick' | 'full';
  command: string;
  machine: { nproc: number; memoryGiB: number; cpu: string; node: string; os: string; commit: string };
  postgres: string;
  options: { runs: number; threads: number; tasks: number; sweep: number[]; latencyMs: number; chunkSize: number; simpleMax: number; targets: string[]; cases: number[]; baseline?: string | null };
  sets: Readonly<BenchSets>;
  rows: Row[];
  notes: string[];
  totalMs: number;
  loadAtStart: number;
}


const HEADER = `# Benchmarks

\`npm run bench\` measures vmb-import end to end on the machine it runs on and rewrites this file
(the part below "Latest results"). Nothing in it asserts a target: ratios are computed and printed,
never enforced.

## How to run

\`\`\`sh
npm run bench                              # full run: 3 runs per measurement, ~15 min on an idle 2-core machine (capped at 30)
npm run bench -- --quick                   # smoke check: 1 run, small data sets, a few minutes
npm run bench -- --cases 1,4               # only some cases
npm run bench -- --target local            # local target (default: onedrive)
npm run bench -- --target local,onedrive   # both, one after the other
\`\`\`

\`npm run bench\` is \`npm run build && node dist/bench/run.js\`. The build is copied into the work
directory when the benchmark starts and every process runs that copy, so rebuilding the tree
meanwhile does not change what is measured; the commit it came from is printed with the results.
Everything listens on 127.0.0.1.

| Option | Default | |
|---|---|---|
| \`--quick\` | off | 1 run, 2,000 small files, 4 large, 50,000 / 2,000 empty ones, reference on 500 files |
| \`--cases 1,2,3,4\` | all | which cases |
| \`--target local,onedrive\` | onedrive | case 2 needs onedrive |
| \`--runs N\` | 3 (quick: 1) | runs of what the targets are judged on (default thread count, floors, no-op runs) |
| \`--budget-min M\` | 30 (quick: none) | every measurement runs once; repeats only while they fit in M minutes |
| \`--sweep 1,2,4,6,8\`, \`--sweep-runs N\` | 1,2,4,6,8; 1 | threads tried in cases 1 and 2, and runs of the non-default points |
| \`--threads N\`, \`--tasks-per-thread N\` | nproc, 16 (the CLI's defaults) | cases 3 and 4, the reference (N = threads × tasks) and the floors |
| \`--latency MS\` | 50 | case 2 |
| \`--reference-files N\`, \`--reference-runs N\` | 1,000 (quick 500; 0 = all); 1 | the reference importer opens a connection per file, which this machine does at ~20/s, so it runs on the first N files |
| \`--chunk-size B\`, \`--simple-max B\` | 10 MiB, 4 MiB | passed to the CLI, the floor and the reference |
| \`--work DIR\`, \`--keep\` | the system temp directory; removed | the data sets and the build copy go in a new \`vmb-bench-*\` directory there, removed at the end (also on Ctrl-C) unless \`--keep\` |
| \`--pg-fast\` | off | fsync and synchronous_commit off, as \`npm test\` runs PostgreSQL |
| \`--no-reference\`, \`--no-floors\` | | leave them out |
| \`--out FILE\`, \`--no-docs\` | docs/benchmarks.md | where the results go |
| \`--timeout-min N\` | 20 | per child process |
| \`--baseline DIR\` | none | cases 5 and 7 also run the CLI of this built checkout (another version: today's behaviour), beside this build |

## What is measured

| Case | Data | Importer settings |
|---|---|---|
| 1 | 20,000 files of 4 KiB: 5 corps × 20 folders × 200 files | \`--threads\` 1, 2, 4, 6, 8 × 16 tasks; emulator latency 0 |
| 2 | the same files | the same sweep; every Graph request delayed 50 ms by the emulator |
| 3 | 40 files of 64 MiB (upload sessions, 10 MiB chunks) | default threads × 16 |
| 4 | 1,000,000 empty files (5 × 20 × 10 folders × 1,000), all already in the ledger; and 20,000 likewise for the RSS comparison | default threads × 16 |
| 5 | one file of 1 GiB (quick: 256 MiB), onedrive only: killed (-9) once the server holds half of it, then the re-run; and a run whose \`--max-runtime\` is the time the killed run took to get half-way | default threads × 16; every Graph request delayed \`--latency\`; with \`--baseline DIR\` the same for that build |
| 7 | a throttled tenant, onedrive only: requests/s × 30 files of 1 KiB (1 corp × 4 folders) per run, against an app budget of fixed 10 s windows of 2 RU × requests/s × 10, at 10, 20, 50 and 100 requests/s, RateLimit headers on and off; at 20 requests/s also 50 ms per request, and 8 threads | default threads × 16 (8 × 16 where said); a fresh ledger and drive per run; with \`--baseline DIR\` the same for that build, turn about |

- **The importer** is the real CLI (\`node bin/vmb-import.js <dir> --database-url … --json --no-progress\`)
  in a child process, against a fresh database per run (case 4: a ledger seeded once per data set),
  and for the onedrive target a fresh Graph emulator per run (\`test/support/graph-emulator\`, in its
  own process, \`storeContent: false\`).
- **Time** is the importer process's wall time from spawn to exit (start-up, migrations and teardown
  included), so files/s is what a user sees. The floors time only their work, which makes the
  ratios against them conservative for the importer.
- **Peak RSS** is \`/usr/bin/time -v\`'s "Maximum resident set size" of the process, which covers its
  worker threads (they share one address space). Without /usr/bin/time it is VmHWM polled from /proc.
- **Database round trips per file** are counted on the server. PostgreSQL runs with
  \`pg_stat_statements\` preloaded (\`track=top\`, \`track_utility=on\`), so every statement a client
  sends and waits for is one call, BEGIN, COMMIT and COPY included (a COPY counts once however many
  rows it carries); "DB stmts/file" is the calls in the run's own database divided by the files.
  Connection set-up (start-up, SCRAM authentication, parameter status) is several more round trips
  per connection and is counted apart: "DB conns" is the "connection authorized" lines the server
  logged for that database (\`log_connections=on\`). "DB xacts/file" is xact_commit + xact_rollback
  from \`pg_stat_database\`. The harness's own checking queries are not counted.
  (\`log_statement=all\` was the first proxy tried; on this machine it slowed the importer by about
  a quarter, so it is not used.)
- **HTTP/file** is the number of requests the emulator received, divided by the files.
- **Case 5** counts the bytes of every fragment the emulator received (taken, cut off or refused) in
  the re-run, and of those the ones the server already held: the re-run's bytes minus the bytes it
  did not hold yet (the fragment the kill cut off counts for nothing on the server, so it is not
  among them). Its "MB/s" is those bytes over the re-run's wall time. The bounded run shows how far
  past its \`--max-runtime\` a run goes with the upload in flight.
- **The reference importer** (\`bench/reference-importer.ts\`) is the old recipe, run on the same data
  (cases 1 and 2: every folder and the first \`--reference-files\` files in path order) with the same
  target and N = threads × tasks items at once: per item a new \`pg.Client\`, the
  upload, then \`BEGIN; INSERT; UPDATE parent SET child_count = (SELECT count(*) …); COMMIT\`, close.
  It writes to its own database (schema \`reference\`); afterwards every folder's child_count is
  compared with its real number of child rows.
- **The floors** do one part of the work alone, on the same data: read + quickXorHash every file
  (\`src/hash/quickxorhash.ts\`, same threads × tasks, 1 MiB reads); the same Graph requests
  (folders, then a PUT per small file or a session and chunk PUTs per large one) from a minimal
  keep-alive \`node:http\` client with N at once, bodies from memory (for the local target: what
  LocalDrive does to the files, read, write to a temporary name, rename, N at once, no hashing); and one COPY of the same ledger rows into \`corporate.vmb_items\` on one connection
  (for case 4 this is the seeding of the ledger).
- Every run is checked: the CLI's JSON summary (failures, counts), the ledger's file rows and the
  child_count of every folder against its real children, and the files on the emulated drive. A
  problem is printed and listed under the table; it never stops the benchmark.
- Everything shares the same cores: the importer, PostgreSQL and the emulator (or the floor client).
  That is the situation being measured, not noise to subtract. Files are read from the page cache
  (they were just written). Work that is *not* the benchmark's is measured too: "Others' CPU" is
  the share of the machine's CPU used by processes outside the benchmark's process tree during each
  run (from /proc/stat and /proc/<pid>/stat); when it is high the results say so.

## Profiling

\`\`\`sh
node --cpu-prof --cpu-prof-dir=/tmp/prof bin/vmb-import.js <dir> --database-url … --json --no-progress …
node dist/bench/profile-top.js /tmp/prof --top 25     # top self-time functions, per thread
\`\`\`

Start the emulator by hand with \`node dist/test/support/graph-emulator/main.js --no-store-content\`
(it prints its URL and token) and pass \`--target onedrive --graph-url URL --drive-id drive-test\` with
\`VMB_GRAPH_TOKEN=test-token\`.
`;

const RESULTS_MARKER = '<!-- results -->';

/**
 * The file to write: what an earlier version of it holds above the results marker (the written
 * analysis) is kept, and only the results below it are replaced.
 */
export function mergeResults(previous: string | null, rendered: string): string {
  if (previous === null || !previous.includes(RESULTS_MARKER)) return rendered;
  return previous.split(RESULTS_MARKER)[0] + RESULTS_MARKER + rendered.split(RESULTS_MARKER)[1];
}

export function renderMarkdown(r: Report): string {
  const out: string[] = [HEADER, '## Latest results', '', RESULTS_MARKER, ''];
  const m = r.machine;
  out.push(
    `- **When:** ${r.when} (${r.mode} run, ${r.options.runs} run(s) per measurement, medians; whole benchmark ${fmt.n(r.totalMs / 60000, 1)} min)`,
    `- **Commit:** ${m.commit}`,
    `- **Machine:** ${m.nproc} CPUs (nproc), ${fmt.n(m.memoryGiB, 1)} GiB memory, CPU "${m.cpu}", ${m.os}, Node ${m.node}`,
    `- **PostgreSQL:** ${r.postgres}`,
    `- **Load:** ${loadLine(r)}`,
    `- **Command:** \`${r.command}\``,
    `- **Settings:** targets ${r.options.targets.join(', ')}; sweep ${r.options.sweep.join(', ')} threads × ${r.options.tasks} tasks; default ${r.options.threads} × ${r.options.tasks}; case 2 latency ${r.options.latencyMs} ms; chunk ${fmt.n(r.options.chunkSize)} B; simple upload up to ${fmt.n(r.options.simpleMax)} B`,
    `- **Data sets:** small ${describe(r.sets.small)}; large ${describe(r.sets.large)}; no-op ${describe(r.sets.million)} and ${describe(r.sets.noop20k)}; resume ${describe(r.sets.resume)}`,
    '',
  );
  for (const n of r.notes) out.push(`> ${n}`, '');
  for (const target of r.options.targets) {
    const rows = r.rows.filter((x) => x.target === target);
    if (rows.length === 0) continue;
    out.push(`### Target: ${target}`, '');
    out.push(...resultsTable(rows), '');
    out.push(...targetsTable(r, rows), '');
    out.push(...resumeTable(rows), '');
    out.push(...throttledTable(rows), '');
    const chart = svgChart(r, rows);
    if (chart) out.push('#### Throughput against threads (cases 1 and 2)', '', 'The chart is inline SVG (shown by most Markdown previews; GitHub strips it); the table under it has the same numbers.', '', chart, '', ...sweepTable(r, rows), '');
    out.push(...breakdown(rows), '');
  }
  return out.join('\n');
}

function loadLine(r: Report): string {
  const loads = r.rows.flatMap((x) => x.samples.map((s) => s.load1)).filter((x): x is number => x !== undefined);
  const foreign = r.rows.flatMap((x) => x.samples.map((s) => s.foreignCpu)).filter((x): x is number => typeof x === 'number');
  const worst = foreign.length ? Math.max(...foreign) : 0;
  const mean = foreign.length ? foreign.reduce((a, b) => a + b, 0) / foreign.length : 0;
  const text =
    `1-minute load average ${r.loadAtStart.toFixed(1)} when the benchmark started, ${loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : '—'} after the runs, on ${r.machine.nproc} CPUs; ` +
    `processes outside the benchmark used ${fmt.n(mean * 100)}% of the machine's CPU on average during the runs (at worst ${fmt.n(worst * 100)}%; column "Others' CPU")`;
  return mean > 0.1 || worst > 0.25
    ? `${text}. **Other work was running on this machine during the benchmark: these numbers are lower and noisier than an idle machine gives.**`
    : text;
}

function describe(s: GridSpec): string {
  return `${fmt.n(fileCount(s))} files of ${s.size >= 1024 * 1024 ? `${s.size / 1024 / 1024} MiB` : `${s.size} B`} in ${fmt.n(dirCount(s))} folders`;
}

function resultsTable(rows: Row[]): string[] {
  const lines = [
    '| Case | Measurement | Files | Time s | Files/s | MB/s | Peak RSS MB | CPU s | DB stmts/file | DB xacts/file | DB conns | HTTP/file | child_count wrong | Others\' CPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const problems: string[] = [];
  for (const caseId of [...new Set(rows.map((x) => x.caseId))].sort((a, b) => a - b)) {
    for (const row of rows.filter((x) => x.caseId === caseId)) {
      const s = summarize(row);
      const mark = s.problems.length ? ` (!${problems.length + 1})` : '';
      if (s.problems.length) problems.push(`${problems.length + 1}. case ${caseId}, ${row.label}: ${s.problems.join('; ')}`);
      lines.push(
        `| ${caseId} | ${row.label}${mark} | ${fmt.n(s.files)} | ${fmt.s(s.ms)} | ${fmt.n(s.filesPerS)} | ${fmt.n(s.mbPerS, 1)} | ${fmt.n(s.rssMb)} | ${fmt.n(s.cpuS, 1)} | ${fmt.sig(s.stmtsPerFile)} | ${fmt.sig(s.xactsPerFile)} | ${fmt.n(s.connections)} | ${fmt.sig(s.httpPerFile)} | ${s.wrongCounts === null ? '—' : fmt.n(s.wrongCounts)} | ${s.foreignCpu === null ? '—' : `${fmt.n(s.foreignCpu * 100)}%`} |`,
      );
    }
  }
  if (problems.length) lines.push('', 'Problems seen:', '', ...problems);
  return lines;
}

function find(rows: Row[], caseId: number, kind: Row['kind'], pick: (r: Row) => boolean = () => true): Row | undefined {
  return rows.find((r) => r.caseId === caseId && r.kind === kind && pick(r));
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : a / b;
}

function verdict(ok: boolean | null): string {
  return ok === null ? 'not measured' : ok ? 'met' : '**not met**';
}

function targetsTable(r: Report, rows: Row[]): string[] {
  const lines = ['#### Against the targets', ''];
  if (r.mode === 'quick') lines.push('A quick run uses smaller data sets than the targets are stated for (and start-up dominates them): these verdicts are for checking the harness, not the importer.', '');
  lines.push('| Target | Measured | Ratio / value | |', '|---|---|---:|---|');
  const T = r.options.threads;
  const K = r.options.tasks;
  const sum = (row: Row | undefined): Summary | null => (row && row.samples.length ? summarize(row) : null);
  const c1 = sum(find(rows, 1, 'importer', (x) => x.threads === T));
  const c1best = rows.filter((x) => x.caseId === 1 && x.kind === 'importer').map(summarize).sort((a, b) => b.filesPerS - a.filesPerS)[0];
  const c1floor = sum(find(rows, 1, 'floor-target'));
  const c1ref = sum(find(rows, 1, 'reference'));
  const floorName = rows[0]?.target === 'onedrive' ? 'emulator-alone floor' : 'local file-copy floor';
  if (c1) {
    const a = ratio(c1.filesPerS, c1floor?.filesPerS);
    lines.push(`| Case 1 ≥ 70% of the ${floorName} | ${fmt.n(c1.filesPerS)} files/s at ${T}×${K} vs ${fmt.n(c1floor?.filesPerS)} | ${a === null ? '—' : `${fmt.n(a * 100)}%`} | ${verdict(a === null ? null : a >= 0.7)} |`);
    const ab = ratio(c1best?.filesPerS, c1floor?.filesPerS);
    if (c1best && c1best !== c1) lines.push(`| (best of the sweep) | ${fmt.n(c1best.filesPerS)} files/s | ${ab === null ? '—' : `${fmt.n(ab * 100)}%`} | ${verdict(ab === null ? null : ab >= 0.7)} |`);
    const b = ratio(c1.filesPerS, c1ref?.filesPerS);
    lines.push(`| Case 1 ≥ 20× the reference importer | ${fmt.n(c1.filesPerS)} vs ${fmt.n(c1ref?.filesPerS)} files/s | ${b === null ? '—' : `${fmt.n(b, 1)}×`} | ${verdict(b === null ? null : b >= 20)} |`);
  }
  const latency = r.options.latencyMs / 1000;
  for (const row of rows.filter((x) => x.caseId === 2 && x.kind === 'importer')) {
    const s = summarize(row);
    const ideal = ((row.threads ?? 0) * (row.tasks ?? 0)) / latency;
    const q = ratio(s.filesPerS, ideal);
    lines.push(`| Case 2 ≥ 80% of threads × tasks ÷ latency, ${row.threads}×${row.tasks} | ${fmt.n(s.filesPerS)} vs ${fmt.n(ideal)} files/s | ${q === null ? '—' : `${fmt.n(q * 100)}%`} | ${verdict(q === null ? null : q >= 0.8)} |`);
  }
  const c2ref = sum(find(rows, 2, 'reference'));
  const c2def = sum(find(rows, 2, 'importer', (x) => x.threads === T));
  if (c2ref && c2def) lines.push(`| (case 2 against the reference, for information) | ${fmt.n(c2def.filesPerS)} vs ${fmt.n(c2ref.filesPerS)} files/s | ${fmt.n(ratio(c2def.filesPerS, c2ref.filesPerS), 1)}× | |`);
  const c3 = sum(find(rows, 3, 'importer'));
  const c3floor = sum(find(rows, 3, 'floor-target'));
  if (c3) {
    const a = ratio(c3.mbPerS, c3floor?.mbPerS);
    lines.push(`| Case 3 ≥ 80% of the ${floorName} | ${fmt.n(c3.mbPerS, 1)} vs ${fmt.n(c3floor?.mbPerS, 1)} MB/s | ${a === null ? '—' : `${fmt.n(a * 100)}%`} | ${verdict(a === null ? null : a >= 0.8)} |`);
    lines.push(`| Case 3 peak RSS < 200 MB | ${fmt.n(c3.rssMb)} MB | | ${verdict(c3.rssMb === null ? null : c3.rssMb < 200)} |`);
  }
  const c4rows = rows.filter((x) => x.caseId === 4 && x.kind === 'importer');
  const big = c4rows.map((x) => ({ row: x, s: summarize(x) })).sort((a, b) => b.s.files - a.s.files);
  if (big.length > 0) {
    const top = big[0].s;
    lines.push(`| Case 4 < 60 s (${fmt.n(top.files)} files) | ${fmt.s(top.ms)} s | ${fmt.n(top.filesPerS)} files/s | ${verdict(top.ms < 60_000)} |`);
    lines.push(`| Case 4 peak RSS < 500 MB | ${fmt.n(top.rssMb)} MB | | ${verdict(top.rssMb === null ? null : top.rssMb < 500)} |`);
    if (big.length > 1) {
      const small = big[big.length - 1].s;
      const d = top.rssMb !== null && small.rssMb !== null ? top.rssMb - small.rssMb : null;
      lines.push(`| Peak RSS grows < 100 MB from ${fmt.n(small.files)} to ${fmt.n(top.files)} files (no-op runs) | ${fmt.n(small.rssMb)} → ${fmt.n(top.rssMb)} MB | ${d === null ? '—' : `${d >= 0 ? '+' : ''}${fmt.n(d)} MB`} | ${verdict(d === null ? null : d < 100)} |`);
    }
    if (c1 && c1.rssMb !== null && top.rssMb !== null) {
      lines.push(`| (for information: case 1 upload of ${fmt.n(c1.files)} files → case 4) | ${fmt.n(c1.rssMb)} → ${fmt.n(top.rssMb)} MB | ${fmt.n(top.rssMb - c1.rssMb)} MB | |`);
    }
  }
  return lines.some((l) => l.startsWith('| Case') || l.startsWith('| Peak')) ? lines : [];
}

/** Case 5: what a re-run after an interruption sends again, and how long a bounded run really takes, per build. */
function resumeTable(rows: Row[]): string[] {
  const c5 = rows.filter((x) => x.caseId === 5 && x.samples.length > 0);
  if (c5.length === 0) return [];
  const lines = [
    '#### Case 5: a large file interrupted half-way, then the re-run',
    '',
    '| Build and measurement | Time s | --max-runtime s | Bytes sent | Of them the server already held | HTTP requests |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of c5) {
    const resent = row.samples.map((x) => x.bytesResent).filter((x): x is number => x !== undefined);
    const http = row.samples.map((x) => x.httpRequests).filter((x): x is number => x !== null);
    const bounds = row.samples.map((x) => x.boundMs).filter((x): x is number => x !== undefined);
    lines.push(
      `| ${row.label} | ${fmt.s(summarize(row).ms)} | ${bounds.length ? fmt.s(median(bounds)) : '—'} | ${fmt.n(median(row.samples.map((x) => x.bytes)))} | ${resent.length ? fmt.n(median(resent)) : '—'} | ${fmt.n(median(http))} |`,
    );
  }
  return lines;
}

/** The issue's targets for a throttled tenant; stricter when the tenant sends RateLimit headers. */
const THROTTLE_TARGETS = {
  headers: { maxThrottled: 0.03, minUsed: 0.9 },
  noHeaders: { maxThrottled: 0.05, minUsed: 0.8 },
};

/** Case 7: per build and budget, how much of the budget a run used and how often it was refused. */
function throttledTable(rows: Row[]): string[] {
  const c7 = rows.filter((x) => x.caseId === 7 && x.samples.some((s) => s.throttle));
  if (c7.length === 0) return [];
  const pct = (x: number | null, digits: number) => (x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`);
  const lines = [
    '#### Case 7: a throttled tenant',
    '',
    `Targets (reported, not asserted): 0 files failed; with RateLimit headers ≤ ${THROTTLE_TARGETS.headers.maxThrottled * 100}% of requests throttled and ≥ ${THROTTLE_TARGETS.headers.minUsed * 100}% of the budget used; without them ≤ ${THROTTLE_TARGETS.noHeaders.maxThrottled * 100}% and ≥ ${THROTTLE_TARGETS.noHeaders.minUsed * 100}%.`,
    '',
    '| Build and budget | Files | Time s | Files/s | Budget used | Requests throttled | Files failed | Throttled (summary) | Held s | Against the targets |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of c7) {
    const t = row.samples.map((x) => x.throttle).filter((x) => x !== undefined);
    const med = (pick: (x: (typeof t)[number]) => number | null) => {
      const xs = t.map(pick).filter((x): x is number => x !== null && Number.isFinite(x));
      return xs.length ? median(xs) : null;
    };
    const used = med((x) => x.budgetUsed);
    const throttled = med((x) => x.requestsThrottled);
    const failed = med((x) => x.filesFailed);
    const held = med((x) => x.heldMs);
    const target = t[0].rateLimitHeaders ? THROTTLE_TARGETS.headers : THROTTLE_TARGETS.noHeaders;
    const misses = [
      failed === null ? 'no summary, so files failed not known' : failed > 0 ? `${fmt.n(failed)} files failed` : null,
      throttled !== null && throttled > target.maxThrottled ? `throttled ${pct(throttled, 1)} > ${target.maxThrottled * 100}% (by ${((throttled - target.maxThrottled) * 100).toFixed(1)} points)` : null,
      used !== null && used < target.minUsed ? `used ${pct(used, 0)} < ${target.minUsed * 100}% (by ${((target.minUsed - used) * 100).toFixed(0)} points)` : null,
    ].filter(Boolean);
    const s = summarize(row);
    lines.push(
      `| ${row.label}${s.problems.length ? ' (!)' : ''} | ${fmt.n(s.files)} | ${fmt.s(s.ms)} | ${fmt.n(s.filesPerS)} | ${pct(used, 0)} | ${pct(throttled, 2)} | ${failed === null ? '—' : fmt.n(failed)} | ${fmt.n(med((x) => x.throttledRequests))} | ${held === null ? '—' : fmt.s(held)} | ${misses.length ? `**missed:** ${misses.join('; ')}` : 'met'} |`,
    );
  }
  lines.push(
    '',
    'Budget used = RU admitted ÷ (RU per window × (last request − first request) ÷ window), from the emulator\'s counters; requests throttled = 429s ÷ (admitted + 429s). (!) rows have problems, listed under the main table.',
  );
  return lines;
}

function sweepTable(r: Report, rows: Row[]): string[] {
  const lines = ['| Threads × tasks | Case 1 files/s | Case 1 RSS MB | Case 2 files/s | Case 2 ideal (T×K÷latency) | Case 2 RSS MB |', '|---:|---:|---:|---:|---:|---:|'];
  for (const t of r.options.sweep) {
    const a = rows.find((x) => x.caseId === 1 && x.kind === 'importer' && x.threads === t);
    const b = rows.find((x) => x.caseId === 2 && x.kind === 'importer' && x.threads === t);
    const sa = a ? summarize(a) : null;
    const sb = b ? summarize(b) : null;
    lines.push(`| ${t} × ${r.options.tasks} | ${fmt.n(sa?.filesPerS)} | ${fmt.n(sa?.rssMb)} | ${fmt.n(sb?.filesPerS)} | ${b ? fmt.n((t * r.options.tasks * 1000) / r.options.latencyMs) : '—'} | ${fmt.n(sb?.rssMb)} |`);
  }
  return lines;
}

/** Which statements the importer ran, from pg_stat_statements (last run of each row). */
function breakdown(rows: Row[]): string[] {
  const lines: string[] = [];
  for (const row of rows.filter((x) => x.kind === 'importer')) {
    const s = row.samples[row.samples.length - 1];
    if (!s?.statementsByQuery || !s.files) continue;
    const parts = Object.entries(s.statementsByQuery)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, v]) => `${k} ${fmt.n(v)}`);
    lines.push(`- case ${row.caseId}, ${row.label}: ${fmt.n(s.statements)} statements for ${fmt.n(s.files)} files: ${parts.join(', ')}; the importer's own duration ${fmt.s(s.innerMs ?? NaN)} s of ${fmt.s(s.ms)} s wall`);
  }
  return lines.length ? ['#### Statements the importer ran (last run of each row, most frequent first)', '', ...lines] : [];
}

/** A line chart of files/s against threads for cases 1 and 2, as SVG text. */
function svgChart(r: Report, rows: Row[]): string | null {
  const series: { name: string; color: string; dash?: string; points: [number, number][] }[] = [];
  const pts = (caseId: number) =>
    rows
      .filter((x) => x.caseId === caseId && x.kind === 'importer' && x.threads !== undefined)
      .map((x) => [x.threads!, summarize(x).filesPerS] as [number, number])
      .filter(([, y]) => Number.isFinite(y))
      .sort((a, b) => a[0] - b[0]);
  const c1 = pts(1);
  const c2 = pts(2);
  if (c1.length + c2.length < 2) return null;
  if (c1.length) series.push({ name: 'case 1: latency 0', color: '#1f77b4', points: c1 });
  if (c2.length) {
    series.push({ name: `case 2: latency ${r.options.latencyMs} ms`, color: '#d62728', points: c2 });
    series.push({ name: 'case 2 ideal: T × K ÷ latency', color: '#d62728', dash: '5,4', points: c2.map(([t]) => [t, (t * r.options.tasks * 1000) / r.options.latencyMs]) });
  }
  const floor = rows.find((x) => x.caseId === 1 && x.kind === 'floor-target');
  if (floor && c1.length) {
    const f = summarize(floor).filesPerS;
    if (Number.isFinite(f)) series.push({ name: rows[0].target === 'onedrive' ? 'case 1 emulator-alone floor' : 'case 1 local file-copy floor', color: '#1f77b4', dash: '2,3', points: [[c1[0][0], f], [c1[c1.length - 1][0], f]] });
  }
  const W = 640;
  const H = 360;
  const L = 70;
  const R = 20;
  const T = 20;
  const B = 50;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const yMax = niceCeil(Math.max(...ys, 1));
  const X = (x: number) => L + ((x - xMin) / (xMax - xMin)) * (W - L - R);
  const Y = (y: number) => H - B - (y / yMax) * (H - T - B);
  const el: string[] = [];
  el.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  el.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    el.push(`<line x1="${L}" y1="${Y(y).toFixed(1)}" x2="${W - R}" y2="${Y(y).toFixed(1)}" stroke="#ddd"/>`);
    el.push(`<text x="${L - 6}" y="${(Y(y) + 4).toFixed(1)}" text-anchor="end">${fmt.n(y)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    el.push(`<line x1="${X(x).toFixed(1)}" y1="${H - B}" x2="${X(x).toFixed(1)}" y2="${H - B + 5}" stroke="#333"/>`);
    el.push(`<text x="${X(x).toFixed(1)}" y="${H - B + 18}" text-anchor="middle">${x}</text>`);
  }
  el.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`);
  el.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">worker threads (× ${r.options.tasks} tasks each)</text>`);
  el.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">files per second</text>`);
  series.forEach((s, i) => {
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    el.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    if (!s.dash) for (const [x, y] of s.points) el.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = T + 8 + i * 16;
    el.push(`<line x1="${L + 12}" y1="${ly}" x2="${L + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    el.push(`<text x="${L + 46}" y="${ly + 4}">${s.name}</text>`);
  });
  el.push('</svg>');
  return el.join('\n');
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
