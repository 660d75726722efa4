/**
 * Upload sessions (createUploadSession / PUT uploadUrl), with the rules Graph documents: chunks in
 * order starting at the next expected byte, every chunk but the last a multiple of 320 KiB, each
 * request under 60 MiB, the same total on every request. A chunk counts only once it has fully
 * arrived, so a dropped request leaves the session where the previous chunk left it.
 *
 * Sessions live on after their client dies (they outlive a run). Besides the session's own expiry,
 * extended by each chunk, the upload URL's token can die a fixed time after creation whatever the
 * progress (observed ~24 h on Business: 401 expiredToken, onedrive-api-docs#1570), and a session
 * can be made to answer 403 accessDenied, which some clients take for that token's death. Each
 * session counts the bytes it took, the bytes of fragments cut off mid-body and the bytes of
 * fragments refused, and is remembered after it ends, so a test can see what a resumed upload
 * re-sent.
 */
import { randomBytes } from 'node:crypto';
import { QuickXorHash } from '../../../src/hash/quickxorhash.js';
import type { Clock } from './context.js';
import { GraphError, invalidRequest, itemNotFound, requestTooLarge } from './graph-error.js';
import type { ConflictBehavior, UploadSessionJson } from './wire.js';

export const FRAGMENT_MULTIPLE = 327_680;
/** "Each request must be < 60 MiB". */
export const MAX_FRAGMENT_BYTES = 60 * 1024 * 1024;

/** Where the bytes go when the last one arrives. */
export type SessionTarget =
  | { kind: 'existing'; itemId: string }
  | { kind: 'new'; parentId: string; name: string; behavior: ConflictBehavior };

/** How a session ended ('completed' once the last byte or the deferred commit arrived), or 'open'. */
export type SessionState = 'open' | 'completed' | 'cancelled' | 'expired';

/** What one session received. */
export interface SessionBytes {
  /** Bytes of fragments taken into the file. */
  bytesAccepted: number;
  fragmentsAccepted: number;
  /** Bytes of fragments whose body was cut off (client gone, connection dropped): they count for nothing. */
  bytesCutOff: number;
  fragmentsCutOff: number;
  /** Bytes of fragments that arrived whole but were answered with an error (416 overlap, 400, ...). */
  bytesRefused: number;
  fragmentsRefused: number;
}

/** What tests see of a session: a snapshot. */
export interface UploadSessionInfo extends SessionBytes {
  id: string;
  /** The file's name (for a session on an existing item, its name at creation). */
  name: string;
  /** 'tokenExpired' and 'denied' sessions still exist but refuse every request. */
  state: SessionState | 'tokenExpired' | 'denied';
  /** Fixed by `item.fileSize` or by the first chunk. */
  total: number | undefined;
  /** The next byte expected. */
  received: number;
  createdAt: Date;
  expiresAt: Date;
}

/** Sums over every session the emulator has had. */
export interface SessionTotals extends SessionBytes {
  created: number;
  /** Usable now: open, token alive, not denied. */
  open: number;
  completed: number;
  cancelled: number;
  expired: number;
  denied: number;
}

export interface UploadSession {
  id: string;
  tempauth: string;
  name: string;
  target: SessionTarget;
  /** Fixed by `item.fileSize` or by the first chunk. */
  total: number | undefined;
  received: number;
  hash: QuickXorHash;
  pieces: Buffer[];
  createdAt: number;
  expiresAt: number;
  state: SessionState;
  /** Set by `faults.denySessions()`: every request answers 403 from then on. */
  denied: boolean;
  /** A request has met this session's expiry (and was counted). */
  expiryMet: boolean;
  deferCommit: boolean;
  bytes: SessionBytes;
}

export interface ContentRange {
  start: number;
  end: number;
  total: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

export function parseContentRange(header: string | undefined): ContentRange {
  const m = header === undefined ? null : CONTENT_RANGE.exec(header.trim());
  if (m === null) {
    throw invalidRequest(`The Content-Range header "${header ?? ''}" is missing or malformed; expected "bytes start-end/total".`, 'invalidContentRangeHeader');
  }
  const range = { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) };
  if (range.end < range.start || range.total === 0 || range.end >= range.total) {
    throw invalidRequest(`The Content-Range "${header}" does not describe bytes inside the file.`, 'invalidContentRangeHeader');
  }
  return range;
}

const zeroBytes = (): SessionBytes => ({
  bytesAccepted: 0,
  fragmentsAccepted: 0,
  bytesCutOff: 0,
  fragmentsCutOff: 0,
  bytesRefused: 0,
  fragmentsRefused: 0,
});

export class UploadSessions {
  /** Every session ever created, ended ones too (without their bytes), for the counters. */
  private readonly sessions = new Map<string, UploadSession>();
  private readonly tag = randomBytes(8).toString('hex');
  private readonly secret = randomBytes(24).toString('base64url');
  private readonly clock: Clock;
  private sequence = 0;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  create(target: SessionTarget, name: string, total: number | undefined, deferCommit: boolean, lifetimeMs: number): UploadSession {
    const seq = ++this.sequence;
    const at = this.clock();
    const session: UploadSession = {
      id: `${this.tag}${seq.toString(16).padStart(8, '0')}`,
      // Shaped like the real token (dots, base64url), so a client that re-encodes it is caught.
      tempauth: `v1.${this.secret}.${seq.toString(36)}`,
      name,
      target,
      total,
      received: 0,
      hash: new QuickXorHash(),
      pieces: [],
      createdAt: at,
      expiresAt: at + lifetimeMs,
      state: 'open',
      denied: false,
      expiryMet: false,
      deferCommit,
      bytes: zeroBytes(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The open session, or the 404 Graph gives for an unknown, finished, cancelled or expired one. */
  get(id: string, onExpiredHit: () => void): UploadSession {
    const session = this.sessions.get(id);
    if (session !== undefined && session.state === 'open') {
      if (session.expiresAt > this.clock()) return session;
      this.end(session, 'expired');
    }
    // Counted once per session: the first request to meet the expiry.
    if (session?.state === 'expired' && !session.expiryMet) {
      session.expiryMet = true;
      onExpiredHit();
    }
    throw itemNotFound('The upload session was not found or has expired.', 'uploadSessionNotFound');
  }

  /** The session, whatever its state, without side effects. */
  peek(id: string): UploadSession | undefined {
    return this.sessions.get(id);
  }

  /** True once the upload URL's token is older than `lifetimeMs` (0: tokens never die). */
  tokenExpired(session: UploadSession, lifetimeMs: number): boolean {
    return lifetimeMs > 0 && this.clock() - session.createdAt >= lifetimeMs;
  }

  end(session: UploadSession, state: Exclude<SessionState, 'open'>): void {
    session.state = state;
    session.pieces = [];
  }

  /** Sessions open, token alive and not denied: those a client could still use. */
  openCount(tokenLifetimeMs: number): number {
    let n = 0;
    for (const session of this.sessions.values()) if (this.usable(session, tokenLifetimeMs)) n++;
    return n;
  }

  expireAll(): number {
    let n = 0;
    for (const session of this.sessions.values()) {
      if (session.state === 'open') {
        this.end(session, 'expired');
        n++;
      }
    }
    return n;
  }

  /** Makes the open sessions `match` accepts answer 403 from now on; returns how many. */
  deny(match: (session: UploadSessionInfo) => boolean, tokenLifetimeMs: number): number {
    let n = 0;
    for (const session of this.sessions.values()) {
      if (session.state !== 'open' || session.denied || !match(this.info(session, tokenLifetimeMs))) continue;
      session.denied = true;
      n++;
    }
    return n;
  }

  /** Every session ever created, in order of creation. */
  list(tokenLifetimeMs: number): UploadSessionInfo[] {
    return [...this.sessions.values()].map((s) => this.info(s, tokenLifetimeMs));
  }

  totals(tokenLifetimeMs: number): SessionTotals {
    const totals: SessionTotals = { created: 0, open: 0, completed: 0, cancelled: 0, expired: 0, denied: 0, ...zeroBytes() };
    for (const session of this.sessions.values()) {
      totals.created++;
      if (this.usable(session, tokenLifetimeMs)) totals.open++;
      if (session.state !== 'open') totals[session.state]++;
      if (session.denied) totals.denied++;
      for (const key of Object.keys(session.bytes) as Array<keyof SessionBytes>) totals[key] += session.bytes[key];
    }
    return totals;
  }

  clear(): void {
    this.sessions.clear();
  }

  noteCutOff(session: UploadSession, bytes: number): void {
    session.bytes.bytesCutOff += bytes;
    session.bytes.fragmentsCutOff++;
  }

  noteRefused(session: UploadSession, bytes: number): void {
    session.bytes.bytesRefused += bytes;
    session.bytes.fragmentsRefused++;
  }

  /**
   * Checks a chunk's headers against the session before its body is read. Throws the answer Graph
   * gives when the chunk cannot be accepted.
   */
  checkChunk(session: UploadSession, range: ContentRange, contentLength: number | undefined): void {
    const length = range.end - range.start + 1;
    if (session.total !== undefined && range.total !== session.total) {
      throw invalidRequest(`The Content-Range total ${range.total} differs from the file size ${session.total} of this session.`, 'invalidContentRangeHeader');
    }
    if (contentLength !== undefined && contentLength !== length) {
      throw invalidRequest(`Content-Length ${contentLength} does not match the Content-Range length ${length}.`);
    }
    if (length >= MAX_FRAGMENT_BYTES) {
      throw requestTooLarge(`A fragment of ${length} bytes is too large; each request must be smaller than 60 MiB.`);
    }
    this.checkPosition(session, range);
    if (range.end !== range.total - 1 && length % FRAGMENT_MULTIPLE !== 0) {
      throw invalidRequest(
        `The fragment is ${length} bytes; every fragment except the last must be a multiple of 320 KiB (327,680 bytes).`,
        'invalidFragmentSize',
      );
    }
  }

  /** Checked again once the body is in, because another request may have moved the session on. */
  checkPosition(session: UploadSession, range: ContentRange): void {
    if (range.start === session.received) return;
    const nextExpectedRanges = nextExpected(session);
    if (range.start < session.received) {
      throw new GraphError(416, 'invalidRange', 'The uploaded fragment overlaps with data that has already been received.', {
        innerCode: 'fragmentOverlap',
        nextExpectedRanges,
      });
    }
    throw new GraphError(
      416,
      'invalidRange',
      `The uploaded fragment starts at byte ${range.start} but the next expected byte is ${session.received}; fragments must be sent in order.`,
      { innerCode: 'fragmentOutOfOrder', nextExpectedRanges },
    );
  }

  /** Takes a fully received chunk into the session. */
  accept(session: UploadSession, range: ContentRange, pieces: Buffer[], keepContent: boolean, lifetimeMs: number): void {
    for (const piece of pieces) session.hash.update(piece);
    if (keepContent) session.pieces.push(...pieces);
    session.total = range.total;
    session.received = range.end + 1;
    session.expiresAt = this.clock() + lifetimeMs;
    session.bytes.bytesAccepted += range.end - range.start + 1;
    session.bytes.fragmentsAccepted++;
  }

  isComplete(session: UploadSession): boolean {
    return session.total !== undefined && session.received === session.total;
  }

  private usable(session: UploadSession, tokenLifetimeMs: number): boolean {
    return session.state === 'open' && session.expiresAt > this.clock() && !session.denied && !this.tokenExpired(session, tokenLifetimeMs);
  }

  private info(session: UploadSession, tokenLifetimeMs: number): UploadSessionInfo {
    let state: UploadSessionInfo['state'] = session.state === 'open' && session.expiresAt <= this.clock() ? 'expired' : session.state;
    if (state === 'open' && this.tokenExpired(session, tokenLifetimeMs)) state = 'tokenExpired';
    else if (state === 'open' && session.denied) state = 'denied';
    return {
      id: session.id,
      name: session.name,
      state,
      total: session.total,
      received: session.received,
      createdAt: new Date(session.createdAt),
      expiresAt: new Date(session.expiresAt),
      ...session.bytes,
    };
  }
}

export function nextExpected(session: UploadSession): string[] {
  return session.total !== undefined && session.received >= session.total ? [] : [`${session.received}-`];
}

export function sessionStatus(session: UploadSession): UploadSessionJson {
  return { expirationDateTime: new Date(session.expiresAt).toISOString(), nextExpectedRanges: nextExpected(session) };
}
