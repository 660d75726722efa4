import { VmbError } from '../../errors/vmb-error.js';
import { QuickXorHash } from '../../hash/quickxorhash.js';
import { eitherSignal } from '../../limits/either-signal.js';
import type { SourceFingerprint } from '../../types.js';
import type { UploadSessionStore } from '../drive.js';
import type { SourceFile } from '../source-file.js';
import { parseJson, type GraphClient, type RetryStats } from './graph-client.js';
import type { Governor } from './governor.js';
import type { CreateUploadSessionBody, DriveItem, UploadSession, UploadSessionStatus } from './wire.js';

/**
 * Resumable uploads (docs/graph-facts.md §2, §9): one session per file, chunks sent in order from one
 * reused buffer, so memory stays at one chunk whatever the file size. With a store, the session
 * outlives the run: written there before its first fragment, continued by a later run from the
 * bytes the server holds when the file is still the same, and kept (not cancelled) when the run's
 * hard bound stops the upload.
 */

/**
 * The upload URL's token dies about 24 h after the session was created whatever the progress
 * (docs/graph-facts.md §9); a session older than this is abandoned rather than continued, leaving
 * an hour for the rest of the file.
 */
export const SESSION_MAX_AGE_MS = 23 * 3600_000;

/** How often an upload's progress is written to the store: every few seconds, not per fragment. */
const PROGRESS_EVERY_MS = 5_000;

/** When a reply gives no expiry: a new session on OneDrive for Business lives ~15 min (docs/graph-facts.md §9). */
const ASSUMED_LIFETIME_MS = 15 * 60_000;

/**
 * Reads the local file at given offsets and hashes every byte exactly once, in file order, however
 * often a range is re-read for re-sending; so the hash is right after any resume or restart. An
 * upload that continues a session at byte N hashes bytes 0…N from disk first (they are not sent),
 * so the quickXorHash check still covers the whole file.
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
    await this.hashUpTo(start);
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

  /** Hashes the bytes before `offset` not hashed yet, reading them from disk without sending them. */
  private async hashUpTo(offset: number): Promise<void> {
    while (this.hashedUpTo < offset) await this.read(this.hashedUpTo, Math.min(this.buffer.length, offset - this.hashedUpTo));
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
  governor: Governor;
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
  /** Upload URLs the target cancels at `close()`: open, and kept in no store for a later run. */
  openSessions: Set<string>;
  stats: RetryStats;
  /** Aborts at once, cutting the fragment in flight. */
  signal?: AbortSignal;
  /** Stops after the fragment in flight (see `UploadRequest.halt`). */
  halt?: AbortSignal;
  /** Keeps the session across runs; `fingerprint` is then the source's. */
  store?: { sessions: UploadSessionStore; fingerprint: SourceFingerprint };
}

export interface SessionResult {
  item: DriveItem;
  /** Bytes an earlier run had sent and this upload did not send again. */
  resumedBytes: number;
}

/** The session an upload is sending to. */
interface OpenSession {
  url: string;
  /** The next byte to send. */
  offset: number;
  expiresAt: number;
  /** Where a session left by an earlier run was continued from; 0 for a session of this upload. */
  resumedFrom: number;
  /** Saved in the store, so kept for the next run when the upload is stopped. */
  kept: boolean;
  /** When its progress was last written to the store. */
  savedAt: number;
}

type Step = { kind: 'continue'; offset: number; expiresAt?: number } | { kind: 'done'; item: DriveItem } | { kind: 'expired' };

export async function uploadInSession(u: SessionUpload): Promise<SessionResult> {
  if (u.halt?.aborted) throw stopped(u, 0, false);
  let session = (await continueSaved(u)) ?? (await startSession(u));
  let restarts = 0;
  // Waits between tries end at the bound too: nothing is in flight then.
  const waits = stopSignal(u);
  try {
    for (;;) {
      if (u.halt?.aborted) throw stopped(u, session.offset, session.kept);
      const url = session.url;
      let from = session.offset;
      const step = await u.governor.run(
        async (retry) => {
          // A dropped request counts for nothing, but may have landed: ask the server what it kept.
          if (retry > 0) {
            const position = await resume(u, url);
            if (position.kind !== 'continue') return position;
            from = position.offset;
          }
          return putChunk(u, url, from);
        },
        { signal: waits, onRetry: () => u.stats.retries++ },
      );
      if (step.kind === 'done') {
        u.openSessions.delete(url);
        return { item: step.item, resumedBytes: session.resumedFrom };
      }
      if (step.kind === 'continue') {
        session.offset = step.offset;
        session.expiresAt = step.expiresAt ?? session.expiresAt;
        await saveProgress(u, session);
        continue;
      }
      if (++restarts > u.restarts) throw new VmbError('retryable', 'upload-session-expired', `${u.remotePath}: the upload session expired ${restarts} times`);
      u.stats.retries++;
      u.openSessions.delete(url);
      session = await startSession(u);
    }
  } catch (err) {
    await leave(u, session);
    throw err;
  }
}

/**
 * An upload that ends without its item: stopped by the run's bound, a kept session stays open for
 * the next run with its last progress saved; otherwise the session is cancelled and forgotten.
 */
async function leave(u: SessionUpload, session: OpenSession): Promise<void> {
  if (session.kept && (u.halt?.aborted || u.signal?.aborted)) {
    await saveProgress(u, session, true).catch(() => undefined);
    return;
  }
  u.openSessions.delete(session.url);
  await cancelUploadSession(u.client, session.url, u.requestTimeoutMs);
  if (session.kept) await u.store!.sessions.forget().catch(() => undefined);
}

/** Best effort: an abandoned session also expires by itself, so failing to cancel is not an error. */
export async function cancelUploadSession(client: GraphClient, uploadUrl: string, timeoutMs: number): Promise<void> {
  try {
    await client.send({ method: 'DELETE', to: { uploadUrl }, accept: [401, 403, 404], signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return;
  }
}

/**
 * The session an earlier run left for this path, continued from the server's next expected byte
 * when it still can be: the same file (fingerprint), not expired, younger than SESSION_MAX_AGE_MS,
 * and the server still knows it. Otherwise it is cancelled (best effort) and forgotten.
 */
async function continueSaved(u: SessionUpload): Promise<OpenSession | null> {
  const saved = await u.store?.sessions.load();
  if (!saved) return null;
  const now = Date.now();
  if (sameFile(saved.fingerprint, u.store!.fingerprint) && saved.expiresAt > now && now - saved.createdAt < SESSION_MAX_AGE_MS) {
    const position = await u.governor.run(() => resume(u, saved.uploadUrl), { signal: stopSignal(u), onRetry: () => u.stats.retries++ });
    if (position.kind === 'continue') {
      const session: OpenSession = { url: saved.uploadUrl, offset: position.offset, expiresAt: position.expiresAt ?? saved.expiresAt, resumedFrom: position.offset, kept: true, savedAt: 0 };
      // Marks the session as this run's (the run that leaves it open owns it).
      await saveProgress(u, session, true);
      return session;
    }
  }
  await cancelUploadSession(u.client, saved.uploadUrl, u.requestTimeoutMs);
  await u.store!.sessions.forget();
  return null;
}

function sameFile(a: SourceFingerprint, b: SourceFingerprint): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

/** A new session; with a store, saved there before its first fragment. */
async function startSession(u: SessionUpload): Promise<OpenSession> {
  const body: CreateUploadSessionBody = { item: { '@microsoft.graph.conflictBehavior': 'replace' } };
  const res = await u.client.request({ method: 'POST', to: { path: `${u.itemPath}/createUploadSession` }, json: body, signal: u.signal }, u.stats);
  const created = parseJson<UploadSession>(res);
  const session: OpenSession = { url: created.uploadUrl, offset: 0, expiresAt: expiryOf(created) ?? Date.now() + ASSUMED_LIFETIME_MS, resumedFrom: 0, kept: false, savedAt: Date.now() };
  u.openSessions.add(session.url);
  if (u.store) {
    try {
      await u.store.sessions.save({ uploadUrl: session.url, expiresAt: session.expiresAt, createdAt: session.savedAt, bytesConfirmed: 0, fingerprint: u.store.fingerprint });
    } catch (err) {
      u.openSessions.delete(session.url);
      await cancelUploadSession(u.client, session.url, u.requestTimeoutMs);
      throw err;
    }
    session.kept = true;
    u.openSessions.delete(session.url);
  }
  return session;
}

async function saveProgress(u: SessionUpload, session: OpenSession, now = false): Promise<void> {
  if (!session.kept || (!now && Date.now() - session.savedAt < PROGRESS_EVERY_MS)) return;
  session.savedAt = Date.now();
  await u.store!.sessions.progress(session.url, session.offset, session.expiresAt);
}

function stopped(u: SessionUpload, offset: number, kept: boolean): VmbError {
  const what = kept ? 'its upload session is kept for the next run' : 'nothing was kept';
  return new VmbError('retryable', 'aborted', `${u.remotePath}: upload stopped after ${offset} of ${u.size} bytes; ${what}`);
}

/** Aborted by either signal. */
function stopSignal(u: SessionUpload): AbortSignal | undefined {
  return eitherSignal(u.signal, u.halt);
}

/** The reply's `expirationDateTime` in ms since the epoch, if it gives a readable one. */
function expiryOf(reply: { expirationDateTime?: string }): number | undefined {
  const at = reply.expirationDateTime === undefined ? Number.NaN : Date.parse(reply.expirationDateTime);
  return Number.isFinite(at) ? at : undefined;
}

/**
 * 404: the session is gone. 401: its tempauth no longer holds (~24 h). 403: abraunegg/onedrive
 * takes accessDenied on an upload URL for the same (docs/graph-facts.md §9). Only a new session helps.
 */
const SESSION_GONE = [401, 403, 404];

async function putChunk(u: SessionUpload, uploadUrl: string, from: number): Promise<Step> {
  const end = Math.min(from + u.chunkSize, u.size);
  const bytes = await u.reader.read(from, end - from);
  if (end === u.size) await u.reader.assertEnds();
  const res = await u.client.send({
    method: 'PUT',
    to: { uploadUrl },
    body: bytes,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${from}-${end - 1}/${u.size}` },
    accept: [...SESSION_GONE, 416],
    signal: u.signal,
  });
  if (res.status === 200 || res.status === 201) return { kind: 'done', item: parseJson<DriveItem>(res) };
  if (SESSION_GONE.includes(res.status)) return { kind: 'expired' };
  // 416: the server already holds that range.
  if (res.status === 416) return resume(u, uploadUrl);
  const status = parseJson<UploadSessionStatus>(res);
  return { kind: 'continue', offset: firstExpected(status) ?? end, expiresAt: expiryOf(status) };
}

async function resume(u: SessionUpload, uploadUrl: string): Promise<Step> {
  const res = await u.client.send({ method: 'GET', to: { uploadUrl }, accept: SESSION_GONE, signal: u.signal });
  if (SESSION_GONE.includes(res.status)) return { kind: 'expired' };
  const status = parseJson<UploadSessionStatus>(res);
  const offset = firstExpected(status);
  // Nothing more expected yet no item: the commit's fate is unknown, and only a new session can tell.
  return offset === undefined || offset >= u.size ? { kind: 'expired' } : { kind: 'continue', offset, expiresAt: expiryOf(status) };
}

/** `nextExpectedRanges` entries look like `"26-"` or `"26-99"`; resume from the lowest start. */
function firstExpected(status: Partial<UploadSessionStatus>): number | undefined {
  const starts = (status.nextExpectedRanges ?? []).map((range) => Number.parseInt(range.split('-')[0], 10)).filter(Number.isFinite);
  return starts.length === 0 ? undefined : Math.min(...starts);
}
