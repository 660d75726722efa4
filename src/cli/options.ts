import os from 'node:os';
import path from 'node:path';
import envPaths from 'env-paths';
import { fatal } from '../errors.js';
import type { ImportOptions } from '../run/import-run.js';
import type { TargetSpec } from '../targets/resolve-target.js';
import type { AfterUpload } from '../worker/protocol.js';
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
  checksum?: boolean;
  afterUpload?: string;
  maxRuntime?: string;
  grace?: string;
  waitLock?: string;
  batchSize?: unknown;
  driveId?: string;
  remoteRoot?: string;
  graphUrl?: string;
  authorityHost?: string;
  chunkSize?: string;
  simpleUploadMax?: string;
  retries?: unknown;
  requestTimeout?: string;
  namePolicy?: string;
}

const CHUNK_UNIT = 327_680;
/**
 * Upload buffers of the whole run, shared out among the threads (each gets at least one chunk):
 * this, not the number of large files in flight, is what uploads add to memory.
 */
const UPLOAD_BUFFER_BYTES = 64 * 1024 * 1024;
export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/v1.0';

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
  const minAgeMs = a.minAge === undefined ? 0 : parseDuration(a.minAge);
  if (Number.isNaN(minAgeMs)) throw fatal('config-option', `--min-age must be a duration such as 60s, 5m or 1h (got ${JSON.stringify(a.minAge)})`);
  const maxRuntimeMs = a.maxRuntime === undefined ? 0 : parseDuration(a.maxRuntime);
  if (!(maxRuntimeMs > 0) && a.maxRuntime !== undefined) throw fatal('config-option', `--max-runtime must be a duration such as 10m or 1h (got ${JSON.stringify(a.maxRuntime)})`);
  const graceMs = a.grace === undefined ? 30_000 : parseDuration(a.grace);
  if (Number.isNaN(graceMs)) throw fatal('config-option', `--grace must be a duration such as 30s (got ${JSON.stringify(a.grace)})`);
  const maxSize = a.maxSize === undefined ? undefined : parseSize(a.maxSize);
  if (Number.isNaN(maxSize)) throw fatal('config-option', `--max-size must be a size such as 500MiB or 2G (got ${JSON.stringify(a.maxSize)})`);
  const threads = a.threads === undefined ? os.availableParallelism() : wholeNumber('threads', a.threads, 1, MAX_THREADS);
  return {
    root: path.resolve(a.dir),
    threads,
    tasksPerThread: a.tasksPerThread === undefined ? 16 : wholeNumber('tasks-per-thread', a.tasksPerThread, 1, 256),
    dryRun: a.dryRun ?? false,
    databaseUrl: a.databaseUrl ?? env.DATABASE_URL ?? undefined,
    dataDir,
    target: targetSpec(a, dataDir, threads),
    corp: a.corp === undefined ? undefined : wholeNumber('corp', a.corp, 0, 2_147_483_647),
    include: a.include ?? [],
    exclude: a.exclude ?? [],
    hidden: a.hidden ?? false,
    followSymlinks: a.followSymlinks ?? false,
    maxSize,
    minAgeMs,
    checksum: a.checksum ?? false,
    afterUpload: afterUploadAction(a.afterUpload),
    maxRuntimeMs,
    graceMs,
    waitLockMs: waitLock(a.waitLock),
    maxBatch: a.batchSize === undefined ? 128 : wholeNumber('batch-size', a.batchSize, 1, 10_000),
    // Each commit costs the server a few milliseconds whatever its size (begin, COPY, planning the
    // merge, WAL flush). Measured on the benchmark's 20,000 small files: 60 ms instead of 20 halved
    // the transactions and cut the server's CPU by a quarter, at the same throughput.
    maxBatchDelayMs: 60,
    fileAttempts: 3,
    env,
  };
}

function size(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = parseSize(value);
  if (!Number.isSafeInteger(n) || n < 0) throw fatal('config-option', `--${name} must be a size such as 10MiB (got ${JSON.stringify(value)})`);
  return n;
}

function targetSpec(a: RawImportArgs, dataDir: string, threads: number): TargetSpec {
  const kind = a.target ?? 'local';
  if (kind === 'local') return { kind: 'local', root: path.resolve(a.localRoot ?? path.join(dataDir, 'drive')) };
  if (kind !== 'onedrive') throw fatal('config-target', `--target ${kind} is not known; use local or onedrive`);
  const chunkSize = size('chunk-size', a.chunkSize, 32 * CHUNK_UNIT);
  if (chunkSize === 0 || chunkSize % CHUNK_UNIT !== 0 || chunkSize > 191 * CHUNK_UNIT) {
    throw fatal('config-option', `--chunk-size must be a multiple of 320 KiB (327680 bytes) up to 59.6 MiB, as Graph requires (got ${a.chunkSize})`);
  }
  const timeout = a.requestTimeout === undefined ? 60_000 : parseDuration(a.requestTimeout);
  if (!(timeout > 0)) throw fatal('config-option', `--request-timeout must be a duration such as 60s (got ${JSON.stringify(a.requestTimeout)})`);
  const graphUrl = a.graphUrl ?? DEFAULT_GRAPH_URL;
  if (!/^https?:\/\//.test(graphUrl) || !URL.canParse(graphUrl)) throw fatal('config-option', `--graph-url must be an http(s) URL such as ${DEFAULT_GRAPH_URL} (got ${JSON.stringify(graphUrl)})`);
  const namePolicy = a.namePolicy ?? 'reject';
  if (namePolicy !== 'reject' && namePolicy !== 'encode') throw fatal('config-option', `--name-policy must be reject or encode (got ${JSON.stringify(namePolicy)})`);
  return {
    kind: 'onedrive',
    driveId: a.driveId,
    remoteRoot: a.remoteRoot ?? '/vmb',
    graphUrl,
    authorityHost: a.authorityHost,
    chunkSize,
    simpleUploadMax: size('simple-upload-max', a.simpleUploadMax, 4 * 1024 * 1024),
    retries: a.retries === undefined ? 6 : wholeNumber('retries', a.retries, 0, 100),
    requestTimeoutMs: timeout,
    bufferBytes: Math.max(chunkSize, Math.floor(UPLOAD_BUFFER_BYTES / threads)),
    namePolicy,
  };
}

function afterUploadAction(text: string | undefined): AfterUpload {
  if (text === undefined || text === 'keep') return { kind: 'keep' };
  if (text === 'delete') return { kind: 'delete' };
  if (text.startsWith('move:') && text.length > 'move:'.length) return { kind: 'move', dir: path.resolve(text.slice('move:'.length)) };
  throw fatal('config-option', `--after-upload must be keep, delete or move:DIR (got ${JSON.stringify(text)})`);
}

/** `--wait-lock` alone waits without limit; `--wait-lock 10m` at most that long; absent: do not wait. */
function waitLock(text: string | undefined): number {
  if (text === undefined) return 0;
  if (text === '' || text === 'true') return Infinity;
  const ms = parseDuration(text);
  if (!(ms > 0)) throw fatal('config-option', `--wait-lock takes an optional duration such as 10m (got ${JSON.stringify(text)})`);
  return ms;
}
