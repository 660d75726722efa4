import { VmbError } from '../../errors/vmb-error.js';
import { QuickXorHash } from '../../hash/quickxorhash.js';
import type { SourceFile } from '../source-file.js';
import { parseJson, type GraphClient, type RetryStats } from './graph-client.js';
import type { Pacer } from './pacer.js';
import type { CreateUploadSessionBody, DriveItem, UploadSession, UploadSessionStatus } from './wire.js';

/**
 * Resumable uploads (docs/graph-facts.md §2): one session per file, chunks sent in order from one reused
 * buffer, so memory stays at one chunk whatever the file size.
 */

/**
 * Reads the local file at given offsets and hashes every byte exactly once, in file order, however
 * often a range is re-read for re-sending; so the hash is right after any resume or restart.
 */
export class HashingReader {
  private readonly hash = new QuickXorHash();
  private hashedUpTo = 0;

  /**
   * `buffer`: at least one byte, for `assertEnds` to probe past the end of an empty file; one
   * `read` returns at most its length, and every `read` reuses it.
   */
  constructor(
    private readonly source: SourceFile,
    private readonly size: number,
    private readonly buffer: Buffer,
  ) {}

  /** The bytes [start, start+length), valid until the next `read`. */
  async read(start: number, length: number): Promise<Buffer> {
    while (this.hashedUpTo < start) await this.read(this.hashedUpTo, Math.min(this.buffer.length, start - this.hashedUpTo));
    let got = 0;
    while (got < length) {
      const bytesRead = await this.source.read(this.buffer, got, length - got, start + got);
      if (bytesRead === 0) throw this.changed(`it ended at ${start + got} bytes`);
      got += bytesRead;
    }
    const end = start + length;
    if (start <= this.hashedUpTo && this.hashedUpTo < end) {
      this.hash.update(this.buffer.subarray(this.hashedUpTo - start, length));
      this.hashedUpTo = end;
    }
    return this.buffer.subarray(0, length);
  }

  /** Called before the last bytes are sent, so a file that grew is never committed truncated. */
  async assertEnds(): Promise<void> {
    if ((await this.source.read(this.buffer, 0, 1, this.size)) > 0) throw this.changed('it has grown');
  }

  digestBase64(): string {
    return this.hash.digestBase64();
  }

  private changed(detail: string): VmbError {
    return new VmbError('skip', 'file-changed', `${this.source.absPath}: ${this.size} bytes were expected but ${detail}`);
  }
}

export interface SessionUpload {
  client: GraphClient;
  pacer: Pacer;
  /** Graph path of the item to create or replace: `/drives/{d}/items/{parentId}:/{name}:`. */
  itemPath: string;
  /** For messages. */
  remotePath: string;
  reader: HashingReader;
  size: number;
  chunkSize: number;
  /** How many times an expired session may be started afresh. */
  restarts: number;
  requestTimeoutMs: number;
  /** Upload URLs still open, for the target to cancel at `close()`. */
  openSessions: Set<string>;
  stats: RetryStats;
  signal?: AbortSignal;
}

type Step = { kind: 'continue'; offset: number } | { kind: 'done'; item: DriveItem } | { kind: 'expired' };

export async function uploadInSession(u: SessionUpload): Promise<DriveItem> {
  let uploadUrl = await createSession(u);
  let offset = 0;
  let restarts = 0;
  try {
    for (;;) {
      const url = uploadUrl;
      let from = offset;
      const step = await u.pacer.run(
        async (retry) => {
          // A dropped request counts for nothing, but may have landed: ask the server what it kept.
          if (retry > 0) {
            const position = await resume(u, url);
            if (position.kind !== 'continue') return position;
            from = position.offset;
          }
          return putChunk(u, url, from);
        },
        { signal: u.signal, onRetry: () => u.stats.retries++ },
      );
      if (step.kind === 'done') {
        u.openSessions.delete(uploadUrl);
        return step.item;
      }
      if (step.kind === 'continue') {
        offset = step.offset;
        continue;
      }
      if (++restarts > u.restarts) throw new VmbError('retryable', 'upload-session-expired', `${u.remotePath}: the upload session expired ${restarts} times`);
      u.stats.retries++;
      u.openSessions.delete(uploadUrl);
      uploadUrl = await createSession(u);
      offset = 0;
    }
  } catch (err) {
    if (u.openSessions.delete(uploadUrl)) await cancelUploadSession(u.client, uploadUrl, u.requestTimeoutMs);
    throw err;
  }
}

/** Best effort: an abandoned session also expires by itself, so failing to cancel is not an error. */
export async function cancelUploadSession(client: GraphClient, uploadUrl: string, timeoutMs: number): Promise<void> {
  try {
    await client.send({ method: 'DELETE', to: { uploadUrl }, accept: [404], signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return;
  }
}

async function createSession(u: SessionUpload): Promise<string> {
  const body: CreateUploadSessionBody = { item: { '@microsoft.graph.conflictBehavior': 'replace' } };
  const res = await u.client.request({ method: 'POST', to: { path: `${u.itemPath}/createUploadSession` }, json: body, signal: u.signal }, u.stats);
  const { uploadUrl } = parseJson<UploadSession>(res);
  u.openSessions.add(uploadUrl);
  return uploadUrl;
}

async function putChunk(u: SessionUpload, uploadUrl: string, from: number): Promise<Step> {
  const end = Math.min(from + u.chunkSize, u.size);
  const bytes = await u.reader.read(from, end - from);
  if (end === u.size) await u.reader.assertEnds();
  const res = await u.client.send({
    method: 'PUT',
    to: { uploadUrl },
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${from}-${end - 1}/${u.size}` },
    // 404: the session expired. 401: its tempauth no longer holds; either way only a new session helps.
    accept: [401, 404, 416],
    signal: u.signal,
  });
  if (res.status === 200 || res.status === 201) return { kind: 'done', item: parseJson<DriveItem>(res) };
  if (res.status === 401 || res.status === 404) return { kind: 'expired' };
  // 416: the server already holds that range.
  if (res.status === 416) return resume(u, uploadUrl);
  return { kind: 'continue', offset: firstExpected(parseJson<UploadSessionStatus>(res)) ?? end };
}

async function resume(u: SessionUpload, uploadUrl: string): Promise<Step> {
  const res = await u.client.send({ method: 'GET', to: { uploadUrl }, accept: [401, 404], signal: u.signal });
  if (res.status === 401 || res.status === 404) return { kind: 'expired' };
  const offset = firstExpected(parseJson<UploadSessionStatus>(res));
  // Nothing more expected yet no item: the commit's fate is unknown, and only a new session can tell.
  return offset === undefined || offset >= u.size ? { kind: 'expired' } : { kind: 'continue', offset };
}

/** `nextExpectedRanges` entries look like `"26-"` or `"26-99"`; resume from the lowest start. */
function firstExpected(status: Partial<UploadSessionStatus>): number | undefined {
  const starts = (status.nextExpectedRanges ?? []).map((range) => Number.parseInt(range.split('-')[0], 10)).filter(Number.isFinite);
  return starts.length === 0 ? undefined : Math.min(...starts);
}
