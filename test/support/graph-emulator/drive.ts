/**
 * The emulated drive: an in-memory tree of folders and files with Graph's identity rules
 * (replacing content, renaming and moving keep the item id, names clash case-insensitively), the
 * driveItem JSON views, and a change sequence for the delta feed: every create, content
 * replacement, rename, move and delete stamps the item with the next number (moving a folder
 * stamps the folder only, as its descendants do not show up in delta), a folder whose children
 * come or go is stamped separately (its childCount changed), and deleted items leave a tombstone.
 */
import { randomBytes } from 'node:crypto';
import { QuickXorHash } from '../../../src/hash/quickxorhash.js';
import { MAX_PATH_LENGTH, nameProblem } from './naming.js';
import { invalidRequest, nameAlreadyExists } from './graph-error.js';
import type { ConflictBehavior, DeltaDeletedJson, DeltaItemJson, DriveItemJson, DriveItemPageJson } from './wire.js';

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
  /** The drive's change sequence when this item last changed. */
  changeSeq: number;
  /** Folders: the change sequence when a child last arrived or left. */
  childrenSeq: number;
}

/** What is left of a deleted item, for the delta feed. */
export interface Tombstone {
  id: string;
  parentId: string;
  changeSeq: number;
}

/** A rename and/or move: the new name, the new parent folder. */
export interface ItemUpdate {
  name?: string;
  parent?: DriveNode;
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
  private changes = 0;
  private readonly tombstones = new Map<string, Tombstone>();

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
        this.remove(existing);
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
    if (this.options.rewriteExtensions.includes(extensionOf(node.name))) {
      payload.pieces.push(REWRITE_TRAILER);
      payload.hash.update(REWRITE_TRAILER);
      payload.size += REWRITE_TRAILER.length;
    }
    this.storeContent(node, payload);
  }

  /** Out-of-band content (the library rewriting a file): stored as given, no trailer. */
  rewrite(node: DriveNode, content: Buffer): void {
    if (node.children !== null) throw new RangeError('rewrite: the item is a folder');
    const hash = new QuickXorHash();
    hash.update(content);
    this.storeContent(node, { pieces: [content], size: content.length, hash });
  }

  /**
   * Renames and/or moves `node` (its id stays). `behavior` settles a clash with another item of the
   * name in the target folder: fail (409), replace (deletes that item; files only) or rename.
   */
  update(node: DriveNode, update: ItemUpdate, behavior: ConflictBehavior): void {
    const from = node.parent;
    if (from === null) throw invalidRequest('The drive root cannot be renamed or moved.');
    const parent = update.parent ?? from;
    let name = update.name ?? node.name;
    if (parent === from && name === node.name) return;
    const isFolder = node.children !== null;
    if (isFolder && isWithin(parent, node)) throw invalidRequest('A folder cannot be moved into itself or one of its subfolders.');
    this.checkNewName(parent, name, isFolder);
    const existing = this.child(parent, name);
    if (existing !== undefined && existing !== node) {
      if (behavior === 'fail') throw nameAlreadyExists(name);
      if (behavior === 'replace') {
        if (isFolder || existing.children !== null) throw nameAlreadyExists(name);
        this.remove(existing);
      } else {
        name = this.freeName(parent, name, isFolder);
      }
    }
    const now = Date.now();
    const seq = ++this.changes;
    from.children?.delete(node.name.toLowerCase());
    this.addSize(from, -node.size);
    from.modified = now;
    from.childrenSeq = seq;
    node.name = name;
    this.attach(parent, node);
    this.addSize(parent, node.size);
    node.modified = now;
    node.version++;
    node.changeSeq = seq;
  }

  /** Deletes `node` and everything below it; each leaves a tombstone. */
  remove(node: DriveNode): void {
    const parent = node.parent;
    if (parent === null) throw invalidRequest('The drive root cannot be deleted.');
    parent.children?.delete(node.name.toLowerCase());
    this.addSize(parent, -node.size);
    parent.modified = Date.now();
    const bury = (n: DriveNode, parentId: string) => {
      this.byId.delete(n.id);
      this.tombstones.set(n.id, { id: n.id, parentId, changeSeq: ++this.changes });
      for (const child of n.children?.values() ?? []) bury(child, n.id);
    };
    bury(node, parent.id);
    parent.childrenSeq = this.changes;
  }

  /** The last change sequence handed out. */
  get lastChange(): number {
    return this.changes;
  }

  tombstone(id: string): Tombstone | undefined {
    return this.tombstones.get(id);
  }

  /**
   * Live items (the root included) changed after `seq`, and with `withFolders` also the folders
   * whose children came or went since; in no particular order.
   */
  changedSince(seq: number, withFolders: boolean): DriveNode[] {
    const out: DriveNode[] = [];
    for (const node of this.byId.values()) if (node.changeSeq > seq || (withFolders && node.childrenSeq > seq)) out.push(node);
    return out;
  }

  /** Tombstones of items deleted after `seq`, in the order they were deleted. */
  deletedSince(seq: number): Tombstone[] {
    const out: Tombstone[] = [];
    for (const t of this.tombstones.values()) if (t.changeSeq > seq) out.push(t);
    return out.sort((a, b) => a.changeSeq - b.changeSeq);
  }

  /** Every live item, the root first, parents before children. */
  *preorder(from: DriveNode = this.root): Generator<DriveNode> {
    yield from;
    for (const child of from.children?.values() ?? []) yield* this.preorder(child);
  }

  /** Files and folders below the root, and the bytes stored. */
  totals(): { files: number; folders: number; bytes: number } {
    let files = 0;
    let folders = 0;
    for (const node of this.byId.values()) {
      if (node === this.root) continue;
      if (node.children === null) files++;
      else folders++;
    }
    return { files, folders, bytes: this.root.size };
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

  /** An item as the delta feed shows it: no path in parentReference, no cTag. */
  toDeltaJson(node: DriveNode): DeltaItemJson {
    const { cTag: _cTag, parentReference, ...rest } = this.toJson(node);
    const json: DeltaItemJson = { ...rest, parentReference: { driveId: this.driveId } };
    if (parentReference.id !== undefined) json.parentReference.id = parentReference.id;
    return json;
  }

  /** A deleted item as the Business delta feed shows it: no name. */
  toDeletedJson(tombstone: Tombstone): DeltaDeletedJson {
    return { id: tombstone.id, parentReference: { driveId: this.driveId, id: tombstone.parentId }, deleted: {} };
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
      changeSeq: ++this.changes,
      childrenSeq: 0,
    };
    this.byId.set(node.id, node);
    return node;
  }

  private attach(parent: DriveNode, node: DriveNode): void {
    parent.children?.set(node.name.toLowerCase(), node);
    parent.modified = Date.now();
    parent.childrenSeq = this.changes;
    node.parent = parent;
  }

  private storeContent(node: DriveNode, payload: Payload): void {
    const { pieces, size } = payload;
    this.addSize(node.parent, size - node.size);
    node.size = size;
    node.hash = payload.hash.digestBase64();
    node.content = this.options.storeContent ? (pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size)) : undefined;
    node.modified = Date.now();
    node.version++;
    node.changeSeq = ++this.changes;
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


/** True when `node` is `folder` or lies somewhere below it. */
function isWithin(node: DriveNode, folder: DriveNode): boolean {
  for (let n: DriveNode | null = node; n !== null; n = n.parent) if (n === folder) return true;
  return false;
}
