/**
 * The emulated drive: an in-memory tree of folders and files with Graph's identity rules
 * (replacing content keeps the item id, names clash case-insensitively) and the driveItem JSON view.
 */
import { randomBytes } from 'node:crypto';
import { QuickXorHash } from '../../../src/hash/quickxorhash.js';
import { MAX_PATH_LENGTH, nameProblem } from './naming.js';
import { invalidRequest, nameAlreadyExists } from './graph-error.js';
import type { ConflictBehavior, DriveItemJson, DriveItemPageJson } from './wire.js';

/** What tests see of an item: a snapshot, except `content`, which is the stored buffer itself. */
export interface EmulatedItem {
  id: string;
  name: string;
  /** Null only for the drive root itself. */
  parentId: string | null;
  /** Decoded path from the drive root, e.g. `/vmb/1042/a.txt`; `/` for the root. */
  path: string;
  isFolder: boolean;
  /** Files: bytes stored; folders: total size of the files below. */
  size: number;
  /** Files only: base64 quickXorHash of the bytes stored. */
  quickXorHash?: string;
  /** Files only, and only when the emulator stores content. */
  content?: Buffer;
  createdAt: Date;
  modifiedAt: Date;
}

/** A file body as received: pieces in order, their total size and their running hash. */
export interface Payload {
  pieces: Buffer[];
  size: number;
  hash: QuickXorHash;
}

export interface DriveOptions {
  driveId: string;
  storeContent: boolean;
  /** Lower-case extensions with the dot (`.pdf`) whose stored content gets bytes appended. */
  rewriteExtensions: readonly string[];
  /** Server-relative URL of the library, counted in the 400-character path limit. */
  serverRelativeUrl: string;
}

/** Internal: handlers pass these around, tests only ever see `EmulatedItem` copies. */
export interface DriveNode {
  id: string;
  name: string;
  parent: DriveNode | null;
  /** Folders only, keyed by the lower-cased name. */
  children: Map<string, DriveNode> | null;
  size: number;
  hash: string;
  content: Buffer | undefined;
  created: number;
  modified: number;
  guid: string;
  version: number;
}

/** What SharePoint's rewrite of Office and PDF files looks like here: the same bytes plus a trailer. */
const REWRITE_TRAILER = Buffer.from('\n%% rewritten by the emulated SharePoint library\n');

const MIME_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.zip': 'application/zip',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

const EMPTY_HASH = new QuickXorHash().digestBase64();

export const extensionOf = (name: string): string => {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
};

export class Drive {
  readonly driveId: string;
  readonly root: DriveNode;
  private readonly byId = new Map<string, DriveNode>();
  private readonly options: DriveOptions;
  /** Ids are a per-instance random tag plus a counter, so no crypto runs per request. */
  private readonly tag = randomBytes(6).toString('hex').toUpperCase();
  private sequence = 0;

  constructor(options: DriveOptions) {
    this.options = options;
    this.driveId = options.driveId;
    this.root = this.newNode('root', null, true);
  }

  get(id: string): DriveNode | undefined {
    return id === 'root' ? this.root : this.byId.get(id);
  }

  child(parent: DriveNode, name: string): DriveNode | undefined {
    return parent.children?.get(name.toLowerCase());
  }

  /** Follows `segments` (decoded names) down from `base`; undefined when any step is missing. */
  walk(base: DriveNode, segments: readonly string[]): DriveNode | undefined {
    let node: DriveNode | undefined = base;
    for (const segment of segments) {
      node = node.children?.get(segment.toLowerCase());
      if (node === undefined) return undefined;
    }
    return node;
  }

  isFolder(node: DriveNode): boolean {
    return node.children !== null;
  }

  createFolder(parent: DriveNode, name: string, behavior: ConflictBehavior): { node: DriveNode; created: boolean } {
    this.checkNewName(parent, name, true);
    const existing = this.child(parent, name);
    if (existing !== undefined) {
      if (behavior === 'fail') throw nameAlreadyExists(name);
      if (behavior === 'replace') {
        // Observed: replacing a folder with a folder keeps it, with its id and children.
        if (existing.children !== null) return { node: existing, created: false };
        this.detach(existing);
      } else {
        name = this.freeName(parent, name, true);
      }
    }
    const node = this.newNode(name, parent, true);
    this.attach(parent, node);
    return { node, created: true };
  }

  /** Creates or replaces `name` in `parent`; replacing a file keeps its id. */
  writeFile(parent: DriveNode, name: string, behavior: ConflictBehavior, payload: Payload): { node: DriveNode; created: boolean } {
    this.checkNewName(parent, name, false);
    const existing = this.child(parent, name);
    if (existing !== undefined) {
      if (behavior === 'fail' || existing.children !== null) throw nameAlreadyExists(name);
      if (behavior === 'replace') {
        this.replaceContent(existing, payload);
        return { node: existing, created: false };
      }
      name = this.freeName(parent, name, false);
    }
    const node = this.newNode(name, parent, false);
    this.attach(parent, node);
    this.replaceContent(node, payload);
    return { node, created: true };
  }

  replaceContent(node: DriveNode, payload: Payload): void {
    const { pieces, hash } = payload;
    let size = payload.size;
    if (this.options.rewriteExtensions.includes(extensionOf(node.name))) {
      pieces.push(REWRITE_TRAILER);
      hash.update(REWRITE_TRAILER);
      size += REWRITE_TRAILER.length;
    }
    this.addSize(node.parent, size - node.size);
    node.size = size;
    node.hash = hash.digestBase64();
    node.content = this.options.storeContent ? (pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size)) : undefined;
    node.modified = Date.now();
    node.version++;
  }

  /** Every item except the root, parents before children. */
  items(): EmulatedItem[] {
    const out: EmulatedItem[] = [];
    const visit = (folder: DriveNode, path: string) => {
      for (const node of folder.children?.values() ?? []) {
        const nodePath = `${path}/${node.name}`;
        out.push(this.view(node, nodePath));
        if (node.children !== null) visit(node, nodePath);
      }
    };
    visit(this.root, '');
    return out;
  }

  itemByPath(path: string): EmulatedItem | undefined {
    const node = this.walk(this.root, path.split('/').filter((s) => s !== ''));
    return node === undefined ? undefined : this.view(node, this.pathOf(node));
  }

  pathOf(node: DriveNode): string {
    const names: string[] = [];
    for (let n: DriveNode | null = node; n !== null && n.parent !== null; n = n.parent) names.push(n.name);
    return '/' + names.reverse().join('/');
  }

  toJson(node: DriveNode): DriveItemJson {
    const json: DriveItemJson = {
      id: node.id,
      name: node.name,
      size: node.size,
      eTag: `"{${node.guid}},${node.version}"`,
      cTag: `"c:{${node.guid}},${node.version}"`,
      createdDateTime: new Date(node.created).toISOString(),
      lastModifiedDateTime: new Date(node.modified).toISOString(),
      parentReference: { driveId: this.driveId, driveType: 'business' },
    };
    if (node.parent !== null) {
      json.parentReference.id = node.parent.id;
      json.parentReference.path = `/drives/${this.driveId}/root:${this.encodedPathOf(node.parent)}`;
    } else {
      json.root = {};
    }
    if (node.children !== null) {
      json.folder = { childCount: node.children.size };
    } else {
      json.file = { mimeType: MIME_TYPES[extensionOf(node.name)] ?? 'application/octet-stream', hashes: { quickXorHash: node.hash } };
    }
    return json;
  }

  /** One page of a folder's children; `skip` comes back from the previous page's nextLink. */
  childrenPage(folder: DriveNode, skip: number, top: number): { page: DriveItemPageJson; next: number | null } {
    const all = [...(folder.children?.values() ?? [])];
    const slice = all.slice(skip, skip + top);
    return { page: { value: slice.map((n) => this.toJson(n)) }, next: skip + top < all.length ? skip + top : null };
  }

  /** Throws the 400 Graph gives when `name` cannot be created in `parent`. */
  checkNewName(parent: DriveNode, name: string, isFolder: boolean): void {
    if (parent.children === null) throw invalidRequest('The parent item is not a folder.');
    const problem = nameProblem(name, { isFolder, atRoot: parent === this.root });
    if (problem !== null) throw invalidRequest(problem);
    const parentPath = parent === this.root ? '' : this.pathOf(parent);
    const serverPath = `${this.options.serverRelativeUrl}${parentPath}/${name}`;
    if (serverPath.length > MAX_PATH_LENGTH) {
      throw invalidRequest(
        `The decoded server-relative path is ${serverPath.length} characters long; the limit is ${MAX_PATH_LENGTH}.`,
        'pathIsTooLong',
      );
    }
  }

  /** OneDrive's rename: "x" → "x 1", "a.txt" → "a 1.txt". */
  private freeName(parent: DriveNode, name: string, isFolder: boolean): string {
    const ext = isFolder ? '' : extensionOf(name);
    const stem = ext === '' ? name : name.slice(0, name.length - ext.length);
    const suffix = ext === '' ? '' : name.slice(name.length - ext.length);
    for (let n = 1; ; n++) {
      const candidate = `${stem} ${n}${suffix}`;
      if (this.child(parent, candidate) === undefined) return candidate;
    }
  }

  private encodedPathOf(node: DriveNode): string {
    const names: string[] = [];
    for (let n: DriveNode | null = node; n !== null && n.parent !== null; n = n.parent) names.push(encodeURIComponent(n.name));
    return names.length === 0 ? '' : '/' + names.reverse().join('/');
  }

  private newNode(name: string, parent: DriveNode | null, isFolder: boolean): DriveNode {
    const seq = ++this.sequence;
    const hex = seq.toString(16).toUpperCase().padStart(20, '0');
    const now = Date.now();
    const node: DriveNode = {
      id: `01${this.tag}${seq.toString(36).toUpperCase().padStart(20, '0')}`,
      name,
      parent,
      children: isFolder ? new Map() : null,
      size: 0,
      hash: EMPTY_HASH,
      content: isFolder ? undefined : Buffer.alloc(0),
      created: now,
      modified: now,
      guid: `${this.tag.slice(0, 8)}-${this.tag.slice(8, 12)}-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8)}`,
      version: 1,
    };
    this.byId.set(node.id, node);
    return node;
  }

  private attach(parent: DriveNode, node: DriveNode): void {
    parent.children?.set(node.name.toLowerCase(), node);
    parent.modified = Date.now();
    node.parent = parent;
  }

  private detach(node: DriveNode): void {
    const parent = node.parent;
    if (parent === null) return;
    parent.children?.delete(node.name.toLowerCase());
    this.addSize(parent, -node.size);
    this.byId.delete(node.id);
  }

  private addSize(folder: DriveNode | null, delta: number): void {
    if (delta === 0) return;
    for (let n = folder; n !== null; n = n.parent) n.size += delta;
  }

  private view(node: DriveNode, path: string): EmulatedItem {
    const item: EmulatedItem = {
      id: node.id,
      name: node.name,
      parentId: node.parent?.id ?? null,
      path,
      isFolder: node.children !== null,
      size: node.size,
      createdAt: new Date(node.created),
      modifiedAt: new Date(node.modified),
    };
    if (node.children === null) {
      item.quickXorHash = node.hash;
      if (node.content !== undefined) item.content = node.content;
    }
    return item;
  }
}

