import { extname } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { VmbError } from '../../errors/vmb-error.js';
import { BufferPool } from '../../limits/buffer-pool.js';
import { eitherSignal } from '../../limits/either-signal.js';
import { isHttpUrl } from '../../options/readers.js';
import type { OneDriveConfig } from '../../types.js';
import type { Drive, EnsureFolderRequest, UploadedItem, UploadRequest } from '../drive.js';
import { createTokenProvider } from './credentials.js';
import { encodePath, GraphClient, headerOf, parseJson, type RetryStats } from './graph-client.js';
import { Governor } from './governor.js';
import { chunkSizeProblem } from './limits.js';
import { DEFAULT_REMOTE_ROOT } from './options.js';
import { cancelUploadSession, HashingReader, uploadInSession } from './upload-session.js';
import type { CreateFolderBody, DeltaPage, DriveItem } from './wire.js';

/** One page of the drive's change feed, or the feed's word that its token is no longer valid (410). */
export type DeltaAnswer = { page: DeltaPage } | { resync: true };

/**
 * SharePoint rewrites these after upload (metadata promotion; docs/graph-facts.md §2, onedrive-api-docs
 * #935), so the drive's size and quickXorHash legitimately differ from the bytes sent. Their
 * remote values are stored as reported instead of failing the file on every attempt.
 */
const REWRITTEN_EXTENSIONS = new Set([
  ...['.doc', '.docx', '.docm', '.dot', '.dotx', '.dotm'],
  ...['.xls', '.xlsx', '.xlsm', '.xlsb', '.xlt', '.xltx', '.xltm'],
  ...['.ppt', '.pptx', '.pptm', '.pot', '.potx', '.potm', '.pps', '.ppsx', '.ppsm'],
  ...['.pdf', '.htm', '.html', '.jpg', '.jpeg'],
]);

function isRewrittenBySharePoint(name: string): boolean {
  return REWRITTEN_EXTENSIONS.has(extname(name).toLowerCase());
}

export interface OneDriveDriveOptions {
  /** Replaces the AZURE_* credential (tests; MSAL refuses plain-http authorities). */
  credential?: TokenCredential;
  env?: NodeJS.ProcessEnv;
}

/** The options' checks again, for a drive built from config that did not come through them (tests, tools). */
function checkConfig(config: OneDriveConfig): string | null {
  if (config.driveId.trim() === '') return 'driveId is empty';
  if (!isHttpUrl(config.graphUrl)) return `graphUrl ${config.graphUrl} is not an http(s) URL`;
  if (!Number.isSafeInteger(config.simpleUploadMax) || config.simpleUploadMax < 0) return `simpleUploadMax ${config.simpleUploadMax} must be a whole number of bytes`;
  if (!Number.isSafeInteger(config.retries) || config.retries < 0) return `retries ${config.retries} must be a whole number`;
  if (!(config.requestTimeoutMs > 0)) return `requestTimeoutMs ${config.requestTimeoutMs} must be positive`;
  const chunk = chunkSizeProblem(config.chunkSize);
  return chunk === null ? null : `chunkSize ${config.chunkSize} ${chunk}`;
}

export class OneDriveDrive implements Drive {
  readonly driveId: string;
  readonly remoteRoot: string;
  private readonly governor: Governor;
  private readonly client: GraphClient;
  private readonly drivePath: string;
  /** Single-flight per folder: concurrent callers share one creation; failures are not kept. */
  private readonly folders = new Map<string, Promise<string>>();
  private rootFolder: Promise<string> | undefined;
  private readonly openSessions = new Set<string>();
  private readonly buffers: BufferPool;

  constructor(
    private readonly config: OneDriveConfig,
    options: OneDriveDriveOptions = {},
  ) {
    const problem = checkConfig(config);
    if (problem !== null) throw new VmbError('fatal', 'config-invalid', `OneDrive drive: ${problem}`);
    this.driveId = config.driveId;
    this.remoteRoot = normalizeRoot(config.remoteRoot || DEFAULT_REMOTE_ROOT);
    this.drivePath = `/drives/${encodeURIComponent(config.driveId)}`;
    this.buffers = new BufferPool(config.bufferBytes);
    this.governor = new Governor(config.governorBuffer, { retries: config.retries, maxRatePerMinute: config.maxRate, bytesPerSecond: config.bwlimit });
    const tokens = createTokenProvider(config, options);
    this.client = new GraphClient({ graphUrl: config.graphUrl, requestTimeoutMs: config.requestTimeoutMs, tokens, governor: this.governor, userAgent: config.userAgent });
  }

  async ensureFolder(req: EnsureFolderRequest): Promise<string> {
    const parentId = req.parentId ?? (await this.rootId());
    // Names are case-insensitive on the drive, so `A` and `a` are one folder there.
    const key = `${parentId}/${req.name.toLowerCase()}`;
    let id = this.folders.get(key);
    if (id === undefined) {
      id = this.getOrCreateFolder(parentId, req.name, req.remotePath, 'skip', req.stats);
      this.folders.set(key, id);
      id.catch(() => this.folders.delete(key));
    }
    return id;
  }

  async upload(req: UploadRequest): Promise<UploadedItem> {
    const stats: RetryStats = { retries: 0 };
    const size = req.source.size;
    const simple = size <= this.config.simpleUploadMax;
    // One byte at least, for `assertEnds` to probe past the end of an empty file.
    const buffer = await this.buffers.take(Math.max(1, simple ? size : Math.min(this.config.chunkSize, size)));
    const reader = new HashingReader(req.source, size, buffer);
    try {
      const itemPath = this.childPath(req.parentId, req.name);
      let item: DriveItem;
      let resumedBytes = 0;
      if (simple) {
        item = await this.simpleUpload(itemPath, reader, req, stats);
      } else {
        ({ item, resumedBytes } = await uploadInSession({
          client: this.client,
          governor: this.governor,
          itemPath,
          remotePath: req.remotePath,
          reader,
          size,
          chunkSize: this.config.chunkSize,
          restarts: this.config.retries,
          requestTimeoutMs: this.config.requestTimeoutMs,
          openSessions: this.openSessions,
          stats,
          signal: req.signal,
          halt: req.halt,
          store: req.sessions && { sessions: req.sessions, fingerprint: req.source.fingerprint },
        }));
      }
      // An upload reply may come before the drive has hashed the content; the item has it later.
      if (item.file?.hashes?.quickXorHash === undefined) {
        item = parseJson<DriveItem>(await this.client.request({ method: 'GET', to: { path: `${this.drivePath}/items/${encodeURIComponent(item.id)}` }, signal: req.signal }, stats));
      }
      return this.verified(req, item, reader.digestBase64(), stats.retries, resumedBytes);
    } catch (err) {
      if (err instanceof VmbError && err.code === 'aborted') throw err;
      if (req.signal?.aborted || req.halt?.aborted) throw new VmbError('retryable', 'aborted', `${req.remotePath}: upload stopped`, { cause: err });
      // The parent is addressed by the id the ledger holds: when it is gone, someone deleted or
      // moved the folder on the drive, and only bringing the ledger in step helps.
      if (err instanceof VmbError && err.code === 'graph-not-found') {
        throw new VmbError('skip', 'graph-not-found', `${err.message}; the folder it goes in is gone from the drive (deleted or moved there?): vmb-import check --fix brings the ledger in step`, { cause: err });
      }
      throw err;
    } finally {
      this.buffers.give(buffer);
    }
  }

  /**
   * Read-only check that the Graph URL, the credentials and the drive id work, before any file is
   * dispatched: one GET of the drive. Anything off is a configuration error.
   */
  async checkDrive(): Promise<void> {
    let res;
    try {
      res = await this.client.request({ method: 'GET', to: { path: this.drivePath } });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new VmbError('fatal', 'graph-check', `cannot use drive ${this.driveId} at ${this.config.graphUrl}: ${message}; check --graph-url, --drive-id and the credentials`);
    }
    const type = headerOf(res, 'content-type') ?? '';
    let ok = type.includes('json');
    try {
      ok = ok && typeof parseJson<{ id?: unknown }>(res).id === 'string';
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new VmbError('fatal', 'graph-not-json', `--graph-url ${this.config.graphUrl} answered ${type || 'something'} that is not a Graph drive; it should be a Graph endpoint such as https://graph.microsoft.com/v1.0`);
    }
  }

  /**
   * The remote root's item id, or null when there is no such folder; read-only, unlike the
   * uploads' lookup, which creates it.
   */
  async findRemoteRoot(): Promise<string | null> {
    const segments = this.remoteRoot.split('/').filter((segment) => segment !== '');
    const lookup = segments.length === 0 ? `${this.drivePath}/root` : `${this.drivePath}/root:/${encodePath(this.remoteRoot)}:`;
    const res = await this.client.request({ method: 'GET', to: { path: lookup }, accept: [404] });
    if (res.status === 404) return null;
    const item = parseJson<DriveItem>(res);
    return item.folder === undefined && segments.length > 0 ? null : item.id;
  }

  /**
   * One page of the drive's change feed, which Business offers on the drive's root only
   * (docs/graph-facts.md): `link` null starts a full enumeration; otherwise a nextLink or deltaLink
   * the feed gave. A link is followed only below --graph-url, so the token never goes elsewhere.
   */
  async deltaPage(link: string | null): Promise<DeltaAnswer> {
    let path = `${this.drivePath}/root/delta`;
    if (link !== null) {
      const base = this.config.graphUrl.replace(/\/+$/, '');
      if (!link.startsWith(`${base}/`)) throw new VmbError('fatal', 'drive-listing-failed', `the delta feed gave a link outside --graph-url ${base}; not followed`);
      path = link.slice(base.length);
    }
    const res = await this.client.request({ method: 'GET', to: { path }, accept: [410] });
    return res.status === 410 ? { resync: true } : { page: parseJson<DeltaPage>(res) };
  }

  /** Cancels the sessions still open that no store keeps; a kept one is the next run's to continue. */
  async close(): Promise<void> {
    await Promise.all([...this.openSessions].map((url) => cancelUploadSession(this.client, url, this.config.requestTimeoutMs)));
    this.openSessions.clear();
    await this.client.close();
  }

  /**
   * Whole file in memory, which `simpleUploadMax` (a few MiB) bounds; also the only way for 0 bytes.
   * Nothing of it can be continued, so the run's bound aborts it.
   */
  private async simpleUpload(itemPath: string, reader: HashingReader, req: UploadRequest, stats: RetryStats): Promise<DriveItem> {
    const body = await reader.read(0, req.source.size);
    await reader.assertEnds();
    const res = await this.client.request(
      {
        method: 'PUT',
        to: { path: `${itemPath}/content?@microsoft.graph.conflictBehavior=replace` },
        body,
        headers: { 'Content-Type': 'application/octet-stream' },
        signal: eitherSignal(req.signal, req.halt),
      },
      stats,
    );
    return parseJson<DriveItem>(res);
  }

  private verified(req: UploadRequest, item: DriveItem, localHash: string, retries: number, resumedBytes: number): UploadedItem {
    const remoteHash = item.file?.hashes?.quickXorHash ?? null;
    const size = item.size ?? req.source.size;
    if (!isRewrittenBySharePoint(req.name)) {
      if (remoteHash !== null && remoteHash !== localHash) {
        throw new VmbError('retryable', 'hash-mismatch', `${req.remotePath}: the drive reports quickXorHash ${remoteHash}, the bytes sent hash to ${localHash}`);
      }
      if (size !== req.source.size) throw new VmbError('retryable', 'size-mismatch', `${req.remotePath}: the drive reports ${size} bytes, ${req.source.size} were sent`);
    }
    return { itemId: item.id, size, remoteHash, localHash, retries, resumedBytes };
  }

  /** `/drives/{d}/items/{parentId}:/{name}:` addresses a child by name whether or not it exists. */
  private childPath(parentId: string, name: string): string {
    return `${this.drivePath}/items/${encodeURIComponent(parentId)}:/${encodeURIComponent(name)}:`;
  }

  private rootId(): Promise<string> {
    if (this.rootFolder === undefined) {
      this.rootFolder = this.resolveRoot();
      this.rootFolder.catch(() => {
        this.rootFolder = undefined;
      });
    }
    return this.rootFolder;
  }

  /** Looked up first: after the first thread has created it, every other thread needs one GET. */
  private async resolveRoot(): Promise<string> {
    const segments = this.remoteRoot.split('/').filter((segment) => segment !== '');
    const lookup = segments.length === 0 ? `${this.drivePath}/root` : `${this.drivePath}/root:/${encodePath(this.remoteRoot)}:`;
    const res = await this.client.request({ method: 'GET', to: { path: lookup }, accept: [404] });
    if (res.status !== 404) return this.folderId(parseJson<DriveItem>(res), this.remoteRoot, 'fatal');
    let id = parseJson<DriveItem>(await this.client.request({ method: 'GET', to: { path: `${this.drivePath}/root` } })).id;
    let path = '';
    for (const segment of segments) {
      path += `/${segment}`;
      id = await this.getOrCreateFolder(id, segment, path, 'fatal');
    }
    return id;
  }

  /** `fail` plus a lookup on 409 (docs/graph-facts.md §3): safe when several threads race for one folder. */
  private async getOrCreateFolder(parentId: string, name: string, remotePath: string, inTheWay: 'skip' | 'fatal' = 'skip', stats?: RetryStats): Promise<string> {
    const body: CreateFolderBody = { name, folder: {}, '@microsoft.graph.conflictBehavior': 'fail' };
    const created = await this.client.request({ method: 'POST', to: { path: `${this.drivePath}/items/${encodeURIComponent(parentId)}/children` }, json: body, accept: [409] }, stats);
    if (created.status !== 409) return this.folderId(parseJson<DriveItem>(created), remotePath, inTheWay);
    const existing = await this.client.request({ method: 'GET', to: { path: this.childPath(parentId, name) } }, stats);
    return this.folderId(parseJson<DriveItem>(existing), remotePath, inTheWay);
  }

  /** A file where the remote root should be stops the run; one deeper down only skips its subtree. */
  private folderId(item: DriveItem, remotePath: string, inTheWay: 'skip' | 'fatal'): string {
    if (item.folder !== undefined) return item.id;
    const message = `${remotePath}: a file of that name is in the way of the folder`;
    throw inTheWay === 'fatal' ? new VmbError('fatal', 'remote-root-not-a-folder', message) : new VmbError('skip', 'remote-not-a-folder', message);
  }
}

/** `a//b/` → `/a/b`, `` → `/`: the remote root as stored, without empty segments. */
function normalizeRoot(path: string): string {
  return `/${path
    .split('/')
    .filter((segment) => segment !== '')
    .join('/')}`;
}
