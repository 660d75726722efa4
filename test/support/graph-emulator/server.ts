/**
 * A local HTTP server emulating the slice of Microsoft Graph v1.0 an uploader to OneDrive for
 * Business uses (see graph-notes.md), with fault injection for tests and benchmarks, an app
 * throttling budget in resource units, and a delta feed.
 *
 *   const graph = await startGraphEmulator({ simpleUploadMax: 4 * 1024 * 1024 });
 *   // point the client at graph.url with bearer graph.token, drive graph.driveId
 *   graph.faults.throttle({ count: 2, retryAfterSeconds: 1 });
 *   graph.budget.configure({ units: 1250, windowMs: 60_000 });
 *   ...
 *   await graph.close();
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { QuickXorHash } from '../../../src/hash/quickxorhash.js';
import { Budget } from './budget.js';
import type { BudgetControls, BudgetOptions } from './budget.js';
import type { Clock, EmulatorContext } from './context.js';
import { DeltaFeed } from './delta.js';
import type { DeltaControls } from './delta.js';
import { handleDriveRequest } from './drive-endpoints.js';
import { Drive } from './drive.js';
import type { EmulatedItem } from './drive.js';
import { RequestCounter } from './emulator-stats.js';
import type { EmulatorStats } from './emulator-stats.js';
import { ClientGone, Exchange, headerValue, now } from './exchange.js';
import type { RequestRecord } from './exchange.js';
import { Faults } from './faults.js';
import type { FaultAction, FaultControls } from './faults.js';
import { GraphError, codeForStatus, invalidRequest, itemNotFound, unauthenticated } from './graph-error.js';
import { requestKind } from './resource-units.js';
import { GRAPH_PREFIX, STATS_PATH, UPLOAD_PREFIX, parseRoute } from './routes.js';
import type { Route } from './routes.js';
import { handleUploadRequest } from './upload-endpoints.js';
import { UploadSessions } from './upload-sessions.js';
import type { UploadSessionInfo } from './upload-sessions.js';

export type { BudgetConfig, BudgetControls, BudgetOptions, BudgetStats, KindStats } from './budget.js';
export type { Clock } from './context.js';
export type { DeltaControls, DeltaCounts, ResyncCode } from './delta.js';
export type { EmulatedItem } from './drive.js';
export type { EmulatorStats, RequestCounts } from './emulator-stats.js';
export type { RequestRecord } from './exchange.js';
export type { DropOptions, FailOptions, FaultControls, FaultCounts, FaultMatch, FaultRequest, StallOptions, ThrottleOptions } from './faults.js';
export type { RequestKind } from './resource-units.js';
export type { SessionBytes, SessionState, SessionTotals, UploadSessionInfo } from './upload-sessions.js';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The bearer token Graph requests must carry; default 'test-token'. */
  token?: string;
  /** Default 'drive-test'. */
  driveId?: string;
  /** Largest simple-upload body in bytes; default 250 MiB as Graph today (tests often set 4 MiB). */
  simpleUploadMax?: number;
  /** Keep file bytes in memory (default true); false keeps only size and hash, for benchmarks. */
  storeContent?: boolean;
  /** Extensions (`.pdf`, `docx`) whose stored bytes get a trailer, like SharePoint's rewrite. */
  rewriteExtensions?: string[];
  /** Upload session lifetime, extended by each accepted chunk; default one hour. */
  sessionLifetimeMs?: number;
  /** Create missing parent folders on PUT by path, as the real service is seen to; default false. */
  autoCreateParents?: boolean;
  /** The library's server-relative URL, counted in the 400-character path limit. */
  serverRelativeUrl?: string;
  /** Keep a record of every request (default true). */
  recordRequests?: boolean;
  /** The clock (ms since the epoch) for the budget and upload-session lifetimes; default Date.now. */
  clock?: Clock;
  /** An app throttling budget from the start; default none (see `budget.configure`). */
  budget?: BudgetOptions;
  /** Upload URL tokens die this long after the session's creation (401 expiredToken); default 0, never. */
  sessionTokenLifetimeMs?: number;
  /** Delta feed page size; default 200. */
  deltaPageSize?: number;
}

export interface GraphEmulator {
  /** Graph base URL, e.g. http://127.0.0.1:PORT/v1.0. */
  readonly url: string;
  /** The bearer token currently accepted. */
  readonly token: string;
  readonly driveId: string;
  /** Item id of the drive root. */
  readonly rootId: string;
  readonly faults: FaultControls;
  /** The app's resource-unit budget (off unless configured) and its counters. */
  readonly budget: BudgetControls;
  /** Delta feed switches (page size, duplicates, token invalidation) and counters. */
  readonly delta: DeltaControls;
  /** Where `GET` answers `stats()` as JSON, e.g. http://127.0.0.1:PORT/_emulator/stats. */
  readonly statsUrl: string;
  /** Accept only `token` from now on (to make a client's cached token expire). */
  setToken(token: string): void;
  /** Every folder and file, parents before children; the root is not included. */
  items(): EmulatedItem[];
  /** By decoded path from the root, case-insensitive like the service; '/' is the root. */
  itemByPath(path: string): EmulatedItem | undefined;
  /** Upload sessions a client could still use: not completed, cancelled, expired, denied or past their token's lifetime. */
  openSessions(): number;
  /** Every upload session the emulator has had, ended ones included, with its byte counters. */
  uploadSessions(): UploadSessionInfo[];
  /**
   * Replaces a file's content out of band, as SharePoint rewriting a file after upload: new size
   * and hash, same id, a new change in the delta feed; no request is recorded or charged.
   */
  rewriteFile(itemId: string, content: Buffer): EmulatedItem;
  /**
   * Creates a folder or a file (with `content`) out of band, for seeding a large drive fast (the
   * check benchmark): no request is recorded or charged; the delta feed sees it as a change.
   * Returns the new item's id.
   */
  seedItem(parentId: string, name: string, content: Buffer | null): string;
  /** Every counter: requests, budget, faults, upload sessions, delta, drive totals. */
  stats(): EmulatorStats;
  /** Every request received, in order of arrival. */
  requests(): RequestRecord[];
  resetRequests(): void;
  /** Stops listening and destroys every open connection, stalled ones included. */
  close(): Promise<void>;
}

const DEFAULTS = {
  host: '127.0.0.1',
  token: 'test-token',
  driveId: 'drive-test',
  simpleUploadMax: 250 * 1024 * 1024,
  sessionLifetimeMs: 60 * 60 * 1000,
  serverRelativeUrl: 'personal/test_contoso_com/Documents',
  deltaPageSize: 200,
};

const EMPTY_QUERY: Record<string, string> = Object.freeze({}) as Record<string, string>;
const BEARER = /^bearer\s+(\S+)\s*$/i;

export async function startGraphEmulator(options: EmulatorOptions = {}): Promise<GraphEmulator> {
  const emulator = new EmulatorServer(options);
  await emulator.listen(options.port ?? 0, options.host ?? DEFAULTS.host);
  return emulator;
}

class EmulatorServer implements GraphEmulator {
  url = '';
  token: string;
  readonly driveId: string;
  readonly rootId: string;
  readonly faults: Faults;
  readonly budget: Budget;
  readonly delta: DeltaFeed;
  statsUrl = '';
  private readonly ctx: EmulatorContext;
  private readonly server: Server;
  private readonly recordRequests: boolean;
  private records: RequestRecord[] = [];
  private readonly requestCounter = new RequestCounter();
  private origin = '';
  private inFlight = 0;
  private requestSeq = 0;
  private closed = false;

  constructor(options: EmulatorOptions) {
    this.token = options.token ?? DEFAULTS.token;
    const storeContent = options.storeContent ?? true;
    const drive = new Drive({
      driveId: options.driveId ?? DEFAULTS.driveId,
      storeContent,
      rewriteExtensions: (options.rewriteExtensions ?? []).map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()),
      serverRelativeUrl: options.serverRelativeUrl ?? DEFAULTS.serverRelativeUrl,
    });
    const clock = options.clock ?? Date.now;
    const sessions = new UploadSessions(clock);
    this.faults = new Faults(
      { sessionLifetimeMs: options.sessionLifetimeMs ?? DEFAULTS.sessionLifetimeMs, sessionTokenLifetimeMs: options.sessionTokenLifetimeMs ?? 0 },
      sessions,
    );
    this.budget = new Budget(clock, options.budget);
    this.delta = new DeltaFeed(drive, options.deltaPageSize ?? DEFAULTS.deltaPageSize);
    this.ctx = {
      drive,
      sessions,
      delta: this.delta,
      faults: this.faults,
      simpleUploadMax: options.simpleUploadMax ?? DEFAULTS.simpleUploadMax,
      storeContent,
      autoCreateParents: options.autoCreateParents ?? false,
    };
    this.driveId = drive.driveId;
    this.rootId = drive.root.id;
    this.recordRequests = options.recordRequests ?? true;
    this.server = createServer({ requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
    // Longer than clients' idle timeouts, so the server is never the side closing a reused socket.
    this.server.keepAliveTimeout = 30_000;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        this.origin = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
        this.url = `${this.origin}${GRAPH_PREFIX}`;
        this.statsUrl = `${this.origin}${STATS_PATH}`;
        resolve();
      });
    });
  }

  setToken(token: string): void {
    this.token = token;
  }

  items(): EmulatedItem[] {
    return this.ctx.drive.items();
  }

  itemByPath(path: string): EmulatedItem | undefined {
    return this.ctx.drive.itemByPath(path);
  }

  openSessions(): number {
    return this.ctx.sessions.openCount(this.faults.sessionTokenLifetimeMs);
  }

  uploadSessions(): UploadSessionInfo[] {
    return this.ctx.sessions.list(this.faults.sessionTokenLifetimeMs);
  }

  rewriteFile(itemId: string, content: Buffer): EmulatedItem {
    const { drive } = this.ctx;
    const node = drive.get(itemId);
    if (node === undefined) throw new RangeError(`rewriteFile: no item ${itemId}`);
    drive.rewrite(node, content);
    return drive.itemByPath(drive.pathOf(node))!;
  }

  seedItem(parentId: string, name: string, content: Buffer | null): string {
    const { drive } = this.ctx;
    const parent = drive.get(parentId);
    if (parent === undefined) throw new RangeError(`seedItem: no folder ${parentId}`);
    if (content === null) return drive.createFolder(parent, name, 'fail').node.id;
    const hash = new QuickXorHash();
    hash.update(content);
    return drive.writeFile(parent, name, 'fail', { pieces: [content], size: content.length, hash }).node.id;
  }

  stats(): EmulatorStats {
    return {
      requests: this.requestCounter.snapshot(),
      budget: this.budget.stats(),
      faults: { ...this.faults.counts },
      sessions: this.ctx.sessions.totals(this.faults.sessionTokenLifetimeMs),
      delta: { ...this.delta.counts },
      drive: this.ctx.drive.totals(),
    };
  }

  requests(): RequestRecord[] {
    return [...this.records];
  }

  resetRequests(): void {
    this.records = [];
  }

  close(): Promise<void> {
    this.closed = true;
    this.ctx.sessions.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    if (path === STATS_PATH) {
      this.serveStats(req, res);
      return;
    }
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path,
      query: q < 0 ? EMPTY_QUERY : Object.fromEntries(new URLSearchParams(rawUrl.slice(q + 1))),
      startedAt: now(),
      endedAt: undefined,
      status: 0,
      hasAuthorization: req.headers.authorization !== undefined,
      bytes: 0,
    };
    const contentRange = req.headers['content-range'];
    if (contentRange !== undefined) record.contentRange = contentRange;
    if (this.recordRequests) this.records.push(record);
    this.requestCounter.received();
    const ex = new Exchange(req, res, record, `emu-${++this.requestSeq}`);

    let admitted = false;
    res.once('close', () => {
      record.endedAt = now();
      record.status = res.writableFinished ? res.statusCode : 0;
      this.requestCounter.closed(record.status);
      if (admitted) this.inFlight--;
    });
    // The request stream errors when the client goes away mid-body; that is a normal event here.
    req.on('error', () => {});

    // A path that does not parse is answered (with that error) by dispatch; here it is just 'other'.
    let route: Route | GraphError;
    try {
      route = parseRoute(path);
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      route = error;
    }
    // The budget comes first: the real service charges whatever reaches it, refused or not.
    const verdict = this.budget.charge(requestKind(record.method, route instanceof GraphError ? undefined : route));
    if (verdict.headers !== undefined) ex.addHeaders(verdict.headers);
    const refusal = verdict.refusal;
    if (refusal !== undefined) {
      this.answer(ex, async () => {
        throw refusal;
      });
      return;
    }

    const cap = this.faults.maxConcurrent;
    if (cap > 0 && this.inFlight >= cap) {
      this.faults.counts.overConcurrency++;
      this.answer(ex, async () => {
        throw new GraphError(429, 'activityLimitReached', `More than ${cap} requests in progress; retry later.`, { headers: { 'retry-after': '1' } });
      });
      return;
    }
    admitted = true;
    this.inFlight++;

    const toUploadUrl = path.startsWith(UPLOAD_PREFIX);
    const fault = this.faults.hasArmed
      ? this.faults.take({ method: record.method, path, query: record.query, headers: req.headers, toUploadUrl })
      : undefined;
    if (fault !== undefined) {
      this.answer(ex, () => this.suffer(ex, fault, route));
      return;
    }
    this.answer(ex, () => this.dispatch(ex, path, route));
  }

  private serveStats(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const ok = req.method === 'GET';
    const text = JSON.stringify(ok ? this.stats() : { error: { code: 'invalidRequest', message: 'Only GET is served here.' } });
    res.writeHead(ok ? 200 : 405, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Waits the injected latency, then runs `work`, turning what it throws into Graph answers. */
  private answer(ex: Exchange, work: () => Promise<void>): void {
    const run = async () => {
      if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
      if (this.closed) return;
      try {
        await work();
      } catch (error) {
        if (error instanceof GraphError) await ex.sendError(error);
        else throw error;
      }
    };
    run().catch((error: unknown) => {
      if (error instanceof ClientGone || this.closed) return;
      console.error('graph emulator: internal error on', ex.record.method, ex.record.path, error);
      if (!ex.res.headersSent) ex.sendError(new GraphError(500, 'generalException', 'Internal emulator error.')).catch(() => {});
    });
  }

  private async dispatch(ex: Exchange, path: string, route: Route | GraphError): Promise<void> {
    if (route instanceof GraphError) throw route;
    if (route.kind === 'upload') return handleUploadRequest(this.ctx, ex, route.sessionId);
    if (!path.startsWith(`${GRAPH_PREFIX}/`)) throw itemNotFound(`Nothing is served at ${path}.`);
    this.checkBearer(ex);
    if (route.kind === 'unknown') throw invalidRequest(`Resource not found for the segment in ${path}.`);
    return handleDriveRequest(this.ctx, ex, route, this.originFor(ex));
  }

  private checkBearer(ex: Exchange): void {
    const header = headerValue(ex.req.headers.authorization);
    if (header === undefined) throw unauthenticated('Access token is empty.');
    const m = BEARER.exec(header);
    if (m === null || m[1] !== this.token) throw unauthenticated('Access token validation failure. Invalid audience or expired token.');
  }

  /** Upload URLs and nextLinks use the host the client reached us by. */
  private originFor(ex: Exchange): string {
    const host = ex.req.headers.host;
    return host === undefined ? this.origin : `http://${host}`;
  }

  private async suffer(ex: Exchange, fault: FaultAction, route: Route | GraphError): Promise<void> {
    switch (fault.kind) {
      case 'throttle':
        throw new GraphError(fault.status, codeForStatus(fault.status), 'The request has been throttled.', {
          headers: { 'retry-after': String(fault.retryAfterSeconds) },
        });
      case 'fail':
        throw new GraphError(fault.status, codeForStatus(fault.status), 'Injected server failure.');
      case 'drop': {
        // A fragment dropped on its way counts for nothing, but its session counts the bytes lost.
        const sessions = this.ctx.sessions;
        const session = !(route instanceof GraphError) && route.kind === 'upload' && ex.record.method === 'PUT' ? sessions.peek(route.sessionId) : undefined;
        return dropConnection(ex, fault.afterBytes, (bytes) => {
          if (session !== undefined) sessions.noteCutOff(session, bytes);
        });
      }
      case 'stall':
        await ex.readBody(0);
        return;
    }
  }
}

/**
 * Destroys the socket once `afterBytes` of the body have arrived (or the body ended), unanswered;
 * `onDropped` learns how many body bytes had arrived.
 */
function dropConnection(ex: Exchange, afterBytes: number, onDropped: (bytes: number) => void): void {
  const { req } = ex;
  if (afterBytes <= 0 || req.readableEnded) {
    req.socket.destroy();
    onDropped(0);
    return;
  }
  let seen = 0;
  let dropped = false;
  const drop = () => {
    if (dropped) return;
    dropped = true;
    req.socket.destroy();
    onDropped(seen);
  };
  req.on('data', (piece: Buffer) => {
    seen += piece.length;
    ex.record.bytes += piece.length;
    if (seen >= afterBytes) drop();
  });
  req.once('end', drop);
}
