import os from 'node:os';
import path from 'node:path';
import envPaths from 'env-paths';
import { fatal } from '../errors.js';
import type { ImportOptions } from '../run/import-run.js';
import { parseDuration, parseSize } from './durations.js';

/** The raw option values yargs hands over (strings where the user may type units). */
export interface RawImportArgs {
  dir: string;
  threads?: unknown;
  tasksPerThread?: unknown;
  dryRun?: boolean;
  databaseUrl?: string;
  dataDir?: string;
  target?: string;
  localRoot?: string;
  corp?: unknown;
  include?: string[];
  exclude?: string[];
  hidden?: boolean;
  followSymlinks?: boolean;
  maxSize?: string;
  minAge?: string;
  batchSize?: unknown;
}

export const MAX_THREADS = 256;

/** Where state lives by default: root runs keep it in /var/lib (the postgres user must reach it). */
export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/vmb-import';
  return envPaths('vmb-import', { suffix: '' }).data;
}

function wholeNumber(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw fatal('config-option', `--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** Turn what the user typed into checked import options, or one line saying what to fix. */
export function importOptions(a: RawImportArgs, env: NodeJS.ProcessEnv): ImportOptions {
  const dataDir = path.resolve(a.dataDir ?? defaultDataDir());
  const target = a.target ?? 'local';
  if (target !== 'local') throw fatal('config-target', `--target ${target} is not known; use --target local`);
  const minAgeMs = a.minAge === undefined ? 0 : parseDuration(a.minAge);
  if (Number.isNaN(minAgeMs)) throw fatal('config-option', `--min-age must be a duration such as 60s, 5m or 1h (got ${JSON.stringify(a.minAge)})`);
  const maxSize = a.maxSize === undefined ? undefined : parseSize(a.maxSize);
  if (Number.isNaN(maxSize)) throw fatal('config-option', `--max-size must be a size such as 500MiB or 2G (got ${JSON.stringify(a.maxSize)})`);
  return {
    root: path.resolve(a.dir),
    threads: a.threads === undefined ? os.availableParallelism() : wholeNumber('threads', a.threads, 1, MAX_THREADS),
    tasksPerThread: a.tasksPerThread === undefined ? 16 : wholeNumber('tasks-per-thread', a.tasksPerThread, 1, 256),
    dryRun: a.dryRun ?? false,
    databaseUrl: a.databaseUrl ?? env.DATABASE_URL ?? undefined,
    dataDir,
    target: { kind: 'local', root: path.resolve(a.localRoot ?? path.join(dataDir, 'drive')) },
    corp: a.corp === undefined ? undefined : wholeNumber('corp', a.corp, 0, 2_147_483_647),
    include: a.include ?? [],
    exclude: a.exclude ?? [],
    hidden: a.hidden ?? false,
    followSymlinks: a.followSymlinks ?? false,
    maxSize,
    minAgeMs,
    maxBatch: a.batchSize === undefined ? 128 : wholeNumber('batch-size', a.batchSize, 1, 10_000),
    maxBatchDelayMs: 20,
    fileAttempts: 3,
    env,
  };
}
