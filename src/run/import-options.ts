import os from 'node:os';
import path from 'node:path';
import { BACKENDS, DRIVE_KINDS, type DriveOptions } from '../drives/backends.js';
import { COMMON_OPTIONS, METRICS_FILE_OPTION } from '../options/common.js';
import { option, OptionProblem, parseTable, type Option, type OptionTable, type Reader, type Values } from '../options/option.js';
import { parseDuration } from '../options/durations.js';
import { choice, duration, flag, list, size, wholeNumber } from '../options/readers.js';
import type { AfterUpload, WorkerConfig } from '../types.js';

export const MAX_THREADS = 256;

/** keep | delete | move:DIR */
const afterUploadReader: Reader<AfterUpload> = {
  type: 'string',
  arg: 'keep|delete|move:DIR',
  read(value) {
    const text = String(value);
    if (text === 'keep') return { kind: 'keep' };
    if (text === 'delete') return { kind: 'delete' };
    if (text.startsWith('move:') && text.length > 'move:'.length) return { kind: 'move', dir: path.resolve(text.slice('move:'.length)) };
    throw new OptionProblem('must be keep, delete or move:DIR');
  },
};

/** `--wait-lock` alone waits without limit; `--wait-lock 10m` at most that long. */
const waitLockReader: Reader<number> = {
  type: 'string',
  arg: '[DUR]',
  read(value) {
    if (value === '' || value === true || value === 'true') return Infinity;
    const ms = parseDuration(String(value));
    if (!(ms > 0)) throw new OptionProblem('takes an optional duration such as 10m');
    return ms;
  },
};

/** Which kind of drive: an import's and a check's. */
export const TARGET_OPTION = option({
  key: 'target',
  flag: 'target',
  reader: choice(DRIVE_KINDS),
  default: 'local',
  help: `where files go: ${DRIVE_KINDS.map((k) => `${k}, ${BACKENDS[k].title}`).join('; ')}`,
  group: 'Target',
  recorded: true,
});

/** How a run goes: threads, dry run, stopping, what becomes of imported files. */
const RUN_OPTIONS = [
  option({
    key: 'threads',
    flag: 'threads',
    reader: wholeNumber(1, MAX_THREADS),
    default: () => String(os.availableParallelism()),
    defaultText: "the machine's parallelism",
    help: `worker threads, 1–${MAX_THREADS}`,
    group: 'Run',
    recorded: true,
  }),
  option({
    key: 'tasksPerThread',
    flag: 'tasks-per-thread',
    reader: wholeNumber(1, 256),
    default: '16',
    help: 'uploads each thread runs at once; finished uploads wait for their commit apart, so uploads never wait for the database',
    group: 'Run',
    recorded: true,
    worker: true,
  }),
  option({
    key: 'dryRun',
    flag: 'dry-run',
    reader: flag(),
    default: false,
    help: 'classify every file as new / changed / unchanged / skipped / deferred; upload nothing, write nothing (read-only transactions)',
    group: 'Run',
  }),
  TARGET_OPTION,
  option({ key: 'corp', flag: 'corp', reader: wholeNumber(0, 2_147_483_647), help: 'every file belongs to corp N', group: 'Run', recorded: true }),
  option({
    key: 'afterUpload',
    flag: 'after-upload',
    reader: afterUploadReader,
    default: 'keep',
    help: 'done to a file only after its row is committed, and only if it is still the file that was uploaded',
    group: 'Run',
    recorded: true,
  }),
  option({
    key: 'maxRuntimeMs',
    flag: 'max-runtime',
    reader: duration('10m or 1h', { positive: true }),
    help: 'a hard bound: after DUR stop dispatching and stop the uploads in flight (a session upload after its current fragment, the session kept for the next run to continue; a one-PUT upload at once); the run is `partial`',
    group: 'Run',
    recorded: true,
  }),
  option({
    key: 'graceMs',
    flag: 'grace',
    reader: duration('30s'),
    default: '30s',
    help: 'after SIGINT/SIGTERM, how long files in flight may take before their uploads are stopped as at --max-runtime (a second signal aborts them at once)',
    group: 'Run',
  }),
  option({
    key: 'waitLockMs',
    flag: 'wait-lock',
    reader: waitLockReader,
    help: 'if another run holds this root and target, wait (at most DUR) instead of exiting 75',
    group: 'Run',
  }),
  option({
    key: 'batchSize',
    flag: 'batch-size',
    reader: wholeNumber(1, 10_000),
    default: '128',
    help: 'most ledger rows one thread commits at once (also how many finished uploads a thread may hold waiting for their commit)',
    group: 'Run',
    worker: true,
  }),
] as const;

/** Which files a run takes. */
const SELECTION_OPTIONS = [
  option({ key: 'include', flag: 'include', reader: list('GLOB'), default: [], help: 'repeatable; only files matching, against the path below `<dir>` (`**/*.pdf`)', group: 'Selection', recorded: true }),
  option({ key: 'exclude', flag: 'exclude', reader: list('GLOB'), default: [], help: 'repeatable; leave out files and folders matching, against the path below `<dir>` (`1042/tmp`)', group: 'Selection', recorded: true }),
  option({ key: 'hidden', flag: 'hidden', reader: flag(), default: false, help: 'import names starting with `.` (otherwise skipped and reported)', group: 'Selection', recorded: true }),
  option({
    key: 'followSymlinks',
    flag: 'follow-symlinks',
    reader: flag(),
    default: false,
    help: 'follow links, detecting loops (otherwise skipped and reported)',
    group: 'Selection',
    recorded: true,
    worker: true,
  }),
  option({ key: 'maxSize', flag: 'max-size', reader: size('500MiB or 2G'), help: 'skip larger files', group: 'Selection', recorded: true }),
  option({
    key: 'minAgeMs',
    flag: 'min-age',
    reader: duration('60s, 5m or 1h'),
    default: '0',
    help: 'leave files modified more recently for a later run (counted as `deferred`)',
    group: 'Selection',
    recorded: true,
  }),
  option({
    key: 'checksum',
    flag: 'checksum',
    reader: flag(),
    default: false,
    help: 'a file is unchanged only if its content hash matches the ledger (reads every candidate)',
    group: 'Selection',
    recorded: true,
  }),
] as const;

/** Every option of an import, the drives' own included (each drive's are read only when it is the target). */
export const IMPORT_OPTIONS = [...COMMON_OPTIONS, METRICS_FILE_OPTION, ...RUN_OPTIONS, ...SELECTION_OPTIONS] as const;

export const DRIVE_OPTIONS: OptionTable = DRIVE_KINDS.flatMap((k): OptionTable => BACKENDS[k].options);

export type ImportOptions = Values<typeof IMPORT_OPTIONS> & {
  /** The directory to import, absolute. */
  root: string;
  drive: DriveOptions;
  env: NodeJS.ProcessEnv;
};

/** What the user typed (yargs' arguments) and the environment, as checked import options, or one line saying what to fix. */
export function importOptions(argv: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): ImportOptions {
  const o = parseTable(IMPORT_OPTIONS, argv, env);
  const backend = BACKENDS[o.target];
  const drive = { kind: o.target, ...parseTable(backend.options, argv, env, o) } as DriveOptions;
  return { ...o, root: path.resolve(String(argv.dir)), drive, env };
}

/** What the run row keeps of the options: the ones marked `recorded`, never a secret. */
export function recordedOptions(o: ImportOptions): Record<string, unknown> {
  return { ...flagged(IMPORT_OPTIONS, o, 'recorded'), ...flagged(BACKENDS[o.drive.kind].options, o.drive, 'recorded') };
}

/** The options the worker threads read, under the same names. */
export function workerOptions(o: ImportOptions): Pick<WorkerConfig, 'tasksPerThread' | 'batchSize' | 'followSymlinks'> {
  return flagged(IMPORT_OPTIONS, o, 'worker') as Pick<WorkerConfig, 'tasksPerThread' | 'batchSize' | 'followSymlinks'>;
}

/** The options of `table` marked `mark`, by key (null when unset). */
export function flagged(table: OptionTable, values: object, mark: 'recorded' | 'worker'): Record<string, unknown> {
  const v = values as Record<string, unknown>;
  return Object.fromEntries(table.filter((o: Option) => o[mark]).map((o) => [o.key, v[o.key] ?? null]));
}
