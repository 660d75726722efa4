/**
 * Upload sessions (createUploadSession / PUT uploadUrl), with the rules Graph documents: chunks in
 * order starting at the next expected byte, every chunk but the last a multiple of 320 KiB, each
 * request under 60 MiB, the same total on every request. A chunk counts only once it has fully
 * arrived, so a dropped request leaves the session where the previous chunk left it.
 */
import { randomBytes } from 'node:crypto';
import { QuickXorHash } from '../../../src/hash/quickxorhash.js';
import { GraphError, invalidRequest, itemNotFound, requestTooLarge } from './graph-error.js';
import type { ConflictBehavior, UploadSessionJson } from './wire.js';

export const FRAGMENT_MULTIPLE = 327_680;
/** "Each request must be < 60 MiB". */
export const MAX_FRAGMENT_BYTES = 60 * 1024 * 1024;

/** Where the bytes go when the last one arrives. */
export type SessionTarget =
  | { kind: 'existing'; itemId: string }
  | { kind: 'new'; parentId: string; name: string; behavior: ConflictBehavior };

export interface UploadSession {
  id: string;
  tempauth: string;
  target: SessionTarget;
  /** Fixed by `item.fileSize` or by the first chunk. */
  total: number | undefined;
  received: number;
  hash: QuickXorHash;
  pieces: Buffer[];
  expiresAt: number;
  expired: boolean;
  deferCommit: boolean;
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

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();
  private readonly tag = randomBytes(8).toString('hex');
  private readonly secret = randomBytes(24).toString('base64url');
  private sequence = 0;

  create(target: SessionTarget, total: number | undefined, deferCommit: boolean, lifetimeMs: number): UploadSession {
    const seq = ++this.sequence;
    const session: UploadSession = {
      id: `${this.tag}${seq.toString(16).padStart(8, '0')}`,
      // Shaped like the real token (dots, base64url), so a client that re-encodes it is caught.
      tempauth: `v1.${this.secret}.${seq.toString(36)}`,
      target,
      total,
      received: 0,
      hash: new QuickXorHash(),
      pieces: [],
      expiresAt: Date.now() + lifetimeMs,
      expired: false,
      deferCommit,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session, or the 404 Graph gives for an unknown, finished, cancelled or expired one. */
  get(id: string, onExpiredHit: () => void): UploadSession {
    const session = this.sessions.get(id);
    if (session !== undefined && !session.expired && session.expiresAt > Date.now()) return session;
    if (session !== undefined) {
      this.sessions.delete(id);
      onExpiredHit();
    }
    throw itemNotFound('The upload session was not found or has expired.', 'uploadSessionNotFound');
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  openCount(): number {
    const at = Date.now();
    let n = 0;
    for (const session of this.sessions.values()) if (!session.expired && session.expiresAt > at) n++;
    return n;
  }

  expireAll(): number {
    let n = 0;
    for (const session of this.sessions.values()) {
      if (!session.expired) {
        session.expired = true;
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.sessions.clear();
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
    session.expiresAt = Date.now() + lifetimeMs;
  }

  isComplete(session: UploadSession): boolean {
    return session.total !== undefined && session.received === session.total;
  }
}

export function nextExpected(session: UploadSession): string[] {
  return session.total !== undefined && session.received >= session.total ? [] : [`${session.received}-`];
}

export function sessionStatus(session: UploadSession): UploadSessionJson {
  return { expirationDateTime: new Date(session.expiresAt).toISOString(), nextExpectedRanges: nextExpected(session) };
}
