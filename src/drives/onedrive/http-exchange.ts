import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import { REQUEST_TIMEOUT } from './retry.js';

/**
 * One HTTP request and its whole response, over undici's dispatcher: the lowest-cost client Node
 * has (on the benchmark machine about 95 µs of CPU for a 4 KiB PUT with its reply, against about
 * 195 µs through node:http; bench/http-clients.ts), which for small files is the largest part of a
 * file's cost in its worker thread.
 */

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface ExchangeResult {
  status: number;
  /** Lower-case names. */
  headers: ResponseHeaders;
  body: Buffer;
}

export interface ExchangeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  signal: AbortSignal | undefined;
  /** Nothing sent or received for this long: the request is cut with code REQUEST_TIMEOUT. */
  idleTimeoutMs: number;
}

/**
 * Bodies above this go to the socket in slices, so that the idle timer sees the upload moving: a
 * 60 MiB chunk on a slow link may take minutes and still be healthy. Smaller ones go in one write.
 */
const BODY_SLICE = 1024 * 1024;

/** Keep-alive sockets of one owner (one GraphClient in one thread), closed by `close()`. */
export class HttpExchange {
  private agent: InstanceType<typeof Agent> | null = null;

  request(req: ExchangeRequest): Promise<ExchangeResult> {
    this.agent ??= new Agent({
      // The idle timer below is the only request timeout, so that every stall has one code.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const agent = this.agent;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      let headers: ResponseHeaders = {};
      let controller: Dispatcher.DispatchController | null = null;
      let settled = false;

      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (err) {
          controller?.abort(err);
          reject(err);
        } else resolve({ status, headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
      };
      const timer = setTimeout(() => finish(Object.assign(new Error(`nothing moved for ${req.idleTimeoutMs} ms`), { code: REQUEST_TIMEOUT })), req.idleTimeoutMs);
      const onAbort = () => finish(abortError(req.signal));
      if (req.signal?.aborted) return finish(abortError(req.signal));
      req.signal?.addEventListener('abort', onAbort, { once: true });

      const handler: Dispatcher.DispatchHandler & { onBodySent(): void } = {
        onRequestStart(c) {
          controller = c;
          if (settled) c.abort(new Error('request already settled'));
        },
        onBodySent() {
          timer.refresh();
        },
        onResponseStart(_c, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders;
          timer.refresh();
        },
        onResponseData(_c, chunk) {
          chunks.push(chunk);
          timer.refresh();
        },
        onResponseEnd() {
          finish(null);
        },
        onResponseError(_c, err) {
          finish(err);
        },
      };
      const body = req.body === undefined ? null : req.body.byteLength > BODY_SLICE ? Readable.from(slices(req.body), { objectMode: false }) : req.body;
      agent.dispatch({ origin: req.url.origin, path: req.url.pathname + req.url.search, method: req.method, headers: req.headers, body }, handler);
    });
  }

  /** Destroys the keep-alive sockets; later requests open new ones. */
  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = null;
    await agent?.destroy();
  }
}

function* slices(body: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < body.byteLength; at += BODY_SLICE) yield body.subarray(at, at + BODY_SLICE);
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}
