import { errorFor, VmbError } from '../../errors/vmb-error.js';
import { redact, type TokenProvider } from './credentials.js';
import type { BudgetSignals, Governor, RequestPrice } from './governor.js';
import { HttpExchange, type ExchangeResult } from './http-exchange.js';
import { parseRetryAfter, shouldRetry, type RequestFailure } from './retry.js';
import type { GraphErrorBody, GraphInnerError } from './wire.js';

/**
 * A deliberately small client for Graph: requests, the shared traffic governor, token refresh and turning
 * failures into `VmbError`s. Its own keep-alive sockets (not the global fetch's) because the
 * thread must be able to close them at teardown, and because a chunk body is a slice of a reused
 * buffer sent as is.
 */

/**
 * `path` is below the Graph base URL and gets the bearer token; `uploadUrl` is a session URL that
 * authenticates itself (`tempauth`) and must never carry an Authorization header.
 */
export type Endpoint = { path: string } | { uploadUrl: string };

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  to: Endpoint;
  json?: unknown;
  body?: Uint8Array;
  headers?: Record<string, string>;
  /** Non-2xx statuses handed back instead of thrown, for the caller to handle (409, 404, 416). */
  accept?: readonly number[];
  signal?: AbortSignal;
}

export type GraphResponse = ExchangeResult;

/** A response header as one string (repeated ones joined, as HTTP allows for lists). */
export function headerOf(res: GraphResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Counts the retries of one unit of work (a file) for `UploadedItem.retries`. */
export interface RetryStats {
  retries: number;
}

export function parseJson<T>(res: GraphResponse): T {
  return JSON.parse(res.body.toString('utf8')) as T;
}

/** Each segment separately: encodeURIComponent also covers `?`, `#`, `%` and Graph's `:` delimiter. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
}

interface AuthState {
  canRefreshToken: boolean;
}

export interface GraphClientOptions {
  graphUrl: string;
  requestTimeoutMs: number;
  tokens: TokenProvider;
  governor: Governor;
  userAgent: string;
}

export class GraphClient {
  private readonly base: string;
  private readonly http = new HttpExchange();
  private closed = false;

  constructor(private readonly options: GraphClientOptions) {
    this.base = options.graphUrl.replace(/\/+$/, '');
  }

  /** Throttled tries wait their turn; other failures retry within the governor's budget; a 401 refreshes the token once. */
  request(req: GraphRequest, stats?: RetryStats): Promise<GraphResponse> {
    const auth: AuthState = { canRefreshToken: true };
    const onRetry = () => {
      if (stats) stats.retries++;
    };
    return this.options.governor.run(() => this.send(req, auth), { signal: req.signal, onRetry });
  }

  /**
   * One try, when the shared governor lets it start. Failures become `VmbError`s as `shouldRetry` says.
   * `auth` is shared by the tries of one request: a 401 spends its one token refresh.
   */
  async send(req: GraphRequest, auth: AuthState = { canRefreshToken: false }): Promise<GraphResponse> {
    if (this.closed) throw new VmbError('fatal', 'target-closed', `${req.method} ${this.describe(req.to)}: the drive is closed`);
    const headers: Record<string, string> = { 'User-Agent': this.options.userAgent, Accept: 'application/json', ...req.headers };
    if ('path' in req.to) headers.Authorization = `Bearer ${await this.options.tokens.token()}`;
    let body: Uint8Array | undefined = req.body;
    if (req.json !== undefined) {
      body = Buffer.from(JSON.stringify(req.json), 'utf8');
      headers['Content-Type'] = 'application/json';
    }
    if (body !== undefined || req.method === 'POST' || req.method === 'PUT') headers['Content-Length'] = String(body?.byteLength ?? 0);

    // Waited for last, right before sending, so a Retry-After that another thread has just met
    // holds this request back too.
    const price = priceOf(req, body);
    await this.options.governor.admit(price, req.signal);
    let res: GraphResponse;
    try {
      res = await this.http.request({ method: req.method, url: this.urlOf(req.to), headers, body, signal: req.signal, idleTimeoutMs: this.options.requestTimeoutMs });
    } catch (err) {
      throw this.failure(req, { kind: 'network', error: err }, `failed: ${err instanceof Error ? err.message : String(err)}`, auth);
    }
    this.options.governor.observe(price, budgetSignals(res));
    if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) return res;
    const { codes, message } = graphError(res);
    const failure: RequestFailure = { kind: 'http', status: res.status, retryAfter: headerOf(res, 'retry-after'), graphCodes: codes };
    throw this.failure(req, failure, `failed: HTTP ${res.status}${codes.length > 0 ? ` ${codes.join('/')}` : ''}${message ? `: ${message}` : ''}`, auth);
  }

  /** Destroys this instance's keep-alive sockets; later requests fail with `target-closed`. */
  async close(): Promise<void> {
    this.closed = true;
    await this.http.close();
  }

  private failure(req: GraphRequest, failure: RequestFailure, detail: string, auth: AuthState): VmbError {
    const canRefreshToken = 'path' in req.to && auth.canRefreshToken && this.options.tokens.refreshable;
    const decision = shouldRetry(failure, { canRefreshToken });
    if (decision.retry === 'refresh-token') {
      this.options.tokens.invalidate();
      auth.canRefreshToken = false;
    }
    const message = redact(`${req.method} ${this.describe(req.to)} ${detail}`, this.options.tokens.secrets());
    return errorFor(decision.code, message);
  }

  private urlOf(to: Endpoint): URL {
    return new URL('path' in to ? this.base + to.path : to.uploadUrl);
  }

  /** Graph paths without their query; upload URLs as origin and path only, never their `tempauth`. */
  private describe(to: Endpoint): string {
    if ('path' in to) return to.path.split('?')[0];
    const url = new URL(to.uploadUrl);
    return `upload session ${url.origin}${url.pathname}`;
  }
}

/**
 * Resource units as SharePoint prices them (docs/graph-facts.md §8): 1 for a single GET, 2 for a
 * list, create, update, delete or upload. Requests to an upload URL are not priced.
 */
function priceOf(req: GraphRequest, body: Uint8Array | undefined): RequestPrice {
  const bytes = body?.byteLength ?? 0;
  if (!('path' in req.to)) return { units: 0, bytes };
  const listing = req.method === 'GET' && /\/(children|delta)(\?|$)/.test(req.to.path);
  return { units: req.method === 'GET' && !listing ? 1 : 2, bytes };
}

function budgetSignals(res: GraphResponse): BudgetSignals {
  const retryAfterSeconds = parseRetryAfter(headerOf(res, 'retry-after'));
  const remaining = Number(headerOf(res, 'ratelimit-remaining'));
  const resetSeconds = Number(headerOf(res, 'ratelimit-reset'));
  const rateLimit = headerOf(res, 'ratelimit-remaining') !== undefined && Number.isFinite(remaining) && Number.isFinite(resetSeconds) && resetSeconds >= 0 ? { remaining, resetSeconds } : undefined;
  return { status: res.status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }), ...(rateLimit ? { rateLimit } : {}) };
}

function graphError(res: GraphResponse): { codes: string[]; message: string } {
  let parsed: Partial<GraphErrorBody>;
  try {
    parsed = parseJson<Partial<GraphErrorBody>>(res);
  } catch {
    return { codes: [], message: '' };
  }
  const codes: string[] = [];
  for (let level: GraphInnerError | undefined = parsed.error; level !== undefined; level = level.innererror ?? level.innerError) {
    if (typeof level.code === 'string') codes.push(level.code);
  }
  return { codes, message: typeof parsed.error?.message === 'string' ? parsed.error.message : '' };
}
