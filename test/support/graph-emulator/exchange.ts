/**
 * One request and its answer: body reading (counted into the request record), JSON and error
 * replies in Graph's shape. Every answer first drains whatever body is left, so a client still
 * writing a chunk never sees its upload cut off by an early reply.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { GraphError } from './graph-error.js';
import type { GraphErrorJson } from './wire.js';

export interface RequestRecord {
  method: string;
  /** Without the query. */
  path: string;
  query: Record<string, string>;
  /** `performance.now()` when the request's headers arrived. */
  startedAt: number;
  /** `performance.now()` when the answer was sent or the connection closed; undefined while in progress. */
  endedAt: number | undefined;
  /** 0 while in progress, and for requests that got no answer (dropped, stalled, client gone). */
  status: number;
  hasAuthorization: boolean;
  contentRange?: string;
  /** Body bytes received. */
  bytes: number;
}

export interface Body {
  /** The body's pieces, or the first `keepUpTo` bytes' worth of them. */
  pieces: Buffer[];
  /** Bytes received, kept or not. */
  size: number;
}

export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before the body was complete');
    this.name = 'ClientGone';
  }
}

const EMPTY: Body = { pieces: [], size: 0 };

export class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly record: RequestRecord;
  readonly requestId: string;
  private body: Promise<Body> | undefined;
  /** Headers every answer to this request carries, whatever it turns out to be. */
  private alwaysHeaders: Readonly<Record<string, string>> | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, record: RequestRecord, requestId: string) {
    this.req = req;
    this.res = res;
    this.record = record;
    this.requestId = requestId;
  }

  /** Adds `headers` to whatever answer this request gets (the budget's RateLimit-* headers). */
  addHeaders(headers: Readonly<Record<string, string>>): void {
    this.alwaysHeaders = { ...this.alwaysHeaders, ...headers };
  }

  /** Reads the whole body, keeping pieces until `keepUpTo` bytes have been kept. */
  readBody(keepUpTo = Number.POSITIVE_INFINITY): Promise<Body> {
    if (this.body !== undefined) return this.body;
    const req = this.req;
    if (req.readableEnded) return (this.body = Promise.resolve(EMPTY));
    this.body = new Promise<Body>((resolve, reject) => {
      const pieces: Buffer[] = [];
      let size = 0;
      req.on('data', (piece: Buffer) => {
        size += piece.length;
        this.record.bytes += piece.length;
        if (size <= keepUpTo) pieces.push(piece);
      });
      req.once('end', () => resolve({ pieces, size }));
      req.once('error', () => reject(new ClientGone()));
      req.once('close', () => {
        if (!req.complete) reject(new ClientGone());
      });
    });
    return this.body;
  }

  async readJson(maxBytes: number): Promise<unknown> {
    const { pieces, size } = await this.readBody(maxBytes);
    if (size > maxBytes) throw new GraphError(413, 'requestTooLarge', `The JSON body is larger than ${maxBytes} bytes.`);
    if (size === 0) return {};
    try {
      return JSON.parse(Buffer.concat(pieces, size).toString('utf8'));
    } catch {
      throw new GraphError(400, 'invalidRequest', 'The request body is not valid JSON.');
    }
  }

  async sendJson(status: number, body: unknown, headers?: Readonly<Record<string, string>>): Promise<void> {
    await this.readBody(0);
    if (this.res.destroyed) return;
    const text = JSON.stringify(body);
    this.res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'request-id': this.requestId,
      ...this.alwaysHeaders,
      ...headers,
    });
    this.res.end(text);
  }

  async sendEmpty(status: number): Promise<void> {
    await this.readBody(0);
    if (this.res.destroyed) return;
    this.res.writeHead(status, { 'request-id': this.requestId, ...this.alwaysHeaders });
    this.res.end();
  }

  sendError(error: GraphError): Promise<void> {
    const body: GraphErrorJson = {
      error: {
        code: error.code,
        message: error.message,
        innerError: {
          ...(error.innerCode === undefined ? {} : { code: error.innerCode }),
          date: new Date().toISOString().slice(0, 19),
          'request-id': this.requestId,
          'client-request-id': headerValue(this.req.headers['client-request-id']) ?? this.requestId,
        },
      },
    };
    if (error.nextExpectedRanges !== undefined) body.nextExpectedRanges = error.nextExpectedRanges;
    return this.sendJson(error.status, body, error.headers);
  }
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export const now = (): number => performance.now();
