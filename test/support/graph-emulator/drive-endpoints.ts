/**
 * The Graph endpoints under /v1.0/drives/{d}: item lookup by id and by path, children listing,
 * the delta feed, folder creation, rename and move (PATCH), delete, simple upload and
 * createUploadSession. Bearer auth is checked by the server before any of these run.
 */
import { QuickXorHash } from '../../../src/hash/quickxorhash.js';
import type { EmulatorContext } from './context.js';
import type { DriveNode, Payload } from './drive.js';
import type { Exchange } from './exchange.js';
import { GraphError, accessDenied, invalidRequest, itemNotFound, nameAlreadyExists, notSupported, requestTooLarge } from './graph-error.js';
import type { Route } from './routes.js';
import type { UploadSession } from './upload-sessions.js';
import { CONFLICT_BEHAVIOR_KEY } from './wire.js';
import type { ConflictBehavior, CreateFolderBody, CreateUploadSessionBody, DriveJson, UpdateItemBody, UploadSessionJson } from './wire.js';

const MAX_JSON_BYTES = 1024 * 1024;
/** Graph's default page size for children. */
const DEFAULT_PAGE_SIZE = 200;
const MAX_PAGE_SIZE = 999;

type DriveRoute = Extract<Route, { kind: 'drive' | 'item' }>;

export async function handleDriveRequest(ctx: EmulatorContext, ex: Exchange, route: DriveRoute, origin: string): Promise<void> {
  const method = ex.req.method ?? 'GET';
  if (route.driveId !== ctx.drive.driveId) throw itemNotFound(`The drive "${route.driveId}" does not exist.`);
  if (route.kind === 'drive') {
    if (method !== 'GET') throw methodNotAllowed();
    const drive: DriveJson = { id: ctx.drive.driveId, driveType: 'business', name: 'Documents' };
    return ex.sendJson(200, drive);
  }
  const base = ctx.drive.get(route.baseId);
  if (base === undefined) throw itemNotFound();

  switch (`${method} ${route.action}`) {
    case 'GET self':
      return ex.sendJson(200, ctx.drive.toJson(resolve(ctx, base, route.segments)));
    case 'GET children':
      return listChildren(ctx, ex, resolve(ctx, base, route.segments), route, origin);
    case 'GET delta':
      return delta(ctx, ex, resolve(ctx, base, route.segments), route, origin);
    case 'PATCH self':
      return updateItem(ctx, ex, resolve(ctx, base, route.segments));
    case 'DELETE self':
      return deleteItem(ctx, ex, resolve(ctx, base, route.segments));
    case 'POST children':
      return createFolder(ctx, ex, resolve(ctx, base, route.segments));
    case 'PUT content':
      return simpleUpload(ctx, ex, base, route.segments);
    case 'POST createUploadSession':
      return createUploadSession(ctx, ex, base, route.segments, origin);
    default:
      throw methodNotAllowed();
  }
}

function methodNotAllowed(): GraphError {
  return new GraphError(405, 'invalidRequest', 'The HTTP method is not allowed for the request target.');
}

function resolve(ctx: EmulatorContext, base: DriveNode, segments: readonly string[]): DriveNode {
  const node = ctx.drive.walk(base, segments);
  if (node === undefined) throw itemNotFound();
  return node;
}

/** For `…:/a/b/name:/…` forms: the folder `a/b` and `name`. */
function parentAndName(ctx: EmulatorContext, base: DriveNode, segments: readonly string[]): { parent: DriveNode; name: string } {
  const folders = segments.slice(0, -1);
  let parent = base;
  for (const folder of folders) {
    const next = ctx.drive.child(parent, folder);
    if (next !== undefined) {
      parent = next;
    } else if (ctx.autoCreateParents) {
      parent = ctx.drive.createFolder(parent, folder, 'fail').node;
    } else {
      throw itemNotFound(`The parent folder "${folder}" does not exist (this emulator does not create missing parents).`);
    }
  }
  if (!ctx.drive.isFolder(parent)) throw invalidRequest('The parent item is not a folder.');
  return { parent, name: segments[segments.length - 1] };
}

function conflictBehavior(value: unknown, fallback: ConflictBehavior): ConflictBehavior {
  if (value === undefined) return fallback;
  if (value === 'fail' || value === 'replace' || value === 'rename') return value;
  throw invalidRequest(`Invalid ${CONFLICT_BEHAVIOR_KEY} "${String(value)}"; expected fail, replace or rename.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listChildren(ctx: EmulatorContext, ex: Exchange, folder: DriveNode, route: DriveRoute, origin: string): Promise<void> {
  if (!ctx.drive.isFolder(folder)) return ex.sendJson(200, { value: [] });
  const query = ex.record.query;
  const top = query.$top === undefined ? DEFAULT_PAGE_SIZE : Number(query.$top);
  const skip = query.$skiptoken === undefined ? 0 : Number(query.$skiptoken);
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE_SIZE) throw invalidRequest(`Invalid $top "${query.$top}".`);
  if (!Number.isInteger(skip) || skip < 0) throw invalidRequest(`Invalid $skiptoken "${query.$skiptoken}".`);
  const { page, next } = ctx.drive.childrenPage(folder, skip, top);
  if (next !== null) {
    page['@odata.nextLink'] = `${origin}/v1.0/drives/${encodeURIComponent(route.driveId)}/items/${folder.id}/children?$top=${top}&$skiptoken=${next}`;
  }
  return ex.sendJson(200, page);
}

function delta(ctx: EmulatorContext, ex: Exchange, folder: DriveNode, route: DriveRoute, origin: string): Promise<void> {
  if (folder !== ctx.drive.root) throw notSupported('view.delta can only be called on the root.');
  const query = ex.record.query;
  const excludeParents = ex.req.headers.deltaexcludeparent !== undefined;
  const deltaUrl = `${origin}/v1.0/drives/${encodeURIComponent(route.driveId)}/root/delta`;
  return ex.sendJson(200, ctx.delta.page(query.token, query.$top, excludeParents, deltaUrl));
}

/** Rename (`name`) and/or move (`parentReference.id`); conflictBehavior in the query (or body), default fail. */
async function updateItem(ctx: EmulatorContext, ex: Exchange, node: DriveNode): Promise<void> {
  const body = await ex.readJson(MAX_JSON_BYTES);
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object.');
  const { name, parentReference } = body as UpdateItemBody;
  const behavior = conflictBehavior(ex.record.query[CONFLICT_BEHAVIOR_KEY] ?? (body as UpdateItemBody)[CONFLICT_BEHAVIOR_KEY], 'fail');
  if (name !== undefined && typeof name !== 'string') throw invalidRequest('"name" must be a string.');
  let parent: DriveNode | undefined;
  if (parentReference !== undefined) {
    if (!isObject(parentReference)) throw invalidRequest('"parentReference" must be an object.');
    const { id, driveId } = parentReference;
    if (driveId !== undefined && driveId !== ctx.drive.driveId) throw invalidRequest('Items cannot be moved between drives with this request.');
    if (typeof id !== 'string') throw invalidRequest('"parentReference.id" is required to move an item (this emulator does not move by path).');
    parent = ctx.drive.get(id);
    if (parent === undefined) throw itemNotFound('The target folder does not exist.');
  }
  ctx.drive.update(node, { name, parent }, behavior);
  return ex.sendJson(200, ctx.drive.toJson(node));
}

async function deleteItem(ctx: EmulatorContext, ex: Exchange, node: DriveNode): Promise<void> {
  if (node === ctx.drive.root) throw accessDenied('The drive root cannot be deleted.');
  ctx.drive.remove(node);
  return ex.sendEmpty(204);
}

async function createFolder(ctx: EmulatorContext, ex: Exchange, parent: DriveNode): Promise<void> {
  const body = await ex.readJson(MAX_JSON_BYTES);
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object.');
  const { name, folder } = body as CreateFolderBody;
  if (typeof name !== 'string') throw invalidRequest('The "name" property is required.');
  if (!isObject(folder)) throw invalidRequest('Only folders can be created this way: the "folder" facet is required.');
  const behavior = conflictBehavior((body as CreateFolderBody)[CONFLICT_BEHAVIOR_KEY], 'fail');
  const { node, created } = ctx.drive.createFolder(parent, name, behavior);
  return ex.sendJson(created ? 201 : 200, ctx.drive.toJson(node));
}

async function simpleUpload(ctx: EmulatorContext, ex: Exchange, base: DriveNode, segments: readonly string[]): Promise<void> {
  const behavior = conflictBehavior(ex.record.query[CONFLICT_BEHAVIOR_KEY], 'replace');
  const target = segments.length === 0 ? undefined : parentAndName(ctx, base, segments);
  if (target === undefined && ctx.drive.isFolder(base)) throw invalidRequest('Content cannot be uploaded to a folder.');

  const body = await ex.readBody(ctx.simpleUploadMax);
  if (body.size > ctx.simpleUploadMax) {
    throw requestTooLarge(`The body is ${body.size} bytes; simple upload accepts at most ${ctx.simpleUploadMax}. Use an upload session.`);
  }
  const hash = new QuickXorHash();
  for (const piece of body.pieces) hash.update(piece);
  const payload: Payload = { pieces: body.pieces, size: body.size, hash };

  if (target === undefined) {
    ctx.drive.replaceContent(base, payload);
    return ex.sendJson(200, ctx.drive.toJson(base));
  }
  const { node, created } = ctx.drive.writeFile(target.parent, target.name, behavior, payload);
  return ex.sendJson(created ? 201 : 200, ctx.drive.toJson(node));
}

async function createUploadSession(ctx: EmulatorContext, ex: Exchange, base: DriveNode, segments: readonly string[], origin: string): Promise<void> {
  const body = await ex.readJson(MAX_JSON_BYTES);
  if (!isObject(body)) throw invalidRequest('The request body must be a JSON object.');
  const { item = {}, deferCommit } = body as CreateUploadSessionBody;
  if (!isObject(item)) throw invalidRequest('The "item" property must be an object.');
  // The docs make `fail` the default here; users report the real service replaces (graph-notes.md §2).
  const behavior = conflictBehavior(item[CONFLICT_BEHAVIOR_KEY], 'fail');
  const fileSize = item.fileSize;
  if (fileSize !== undefined && (typeof fileSize !== 'number' || !Number.isSafeInteger(fileSize) || fileSize < 0)) {
    throw invalidRequest('"fileSize" must be a non-negative integer.');
  }
  if (deferCommit !== undefined && typeof deferCommit !== 'boolean') throw invalidRequest('"deferCommit" must be a boolean.');

  let session: UploadSession;
  if (segments.length === 0) {
    if (ctx.drive.isFolder(base)) throw invalidRequest('An upload session needs a file item, or a parent and a name (items/{parent-id}:/{name}:).');
    session = ctx.sessions.create({ kind: 'existing', itemId: base.id }, base.name, fileSize, deferCommit === true, ctx.faults.sessionLifetimeMs);
  } else {
    const { parent, name } = parentAndName(ctx, base, segments);
    ctx.drive.checkNewName(parent, name, false);
    const existing = ctx.drive.child(parent, name);
    if (existing !== undefined && (behavior === 'fail' || ctx.drive.isFolder(existing))) throw nameAlreadyExists(name);
    session = ctx.sessions.create({ kind: 'new', parentId: parent.id, name, behavior }, name, fileSize, deferCommit === true, ctx.faults.sessionLifetimeMs);
  }
  const answer: UploadSessionJson = {
    uploadUrl: `${origin}/upload/sessions/${session.id}?tempauth=${session.tempauth}`,
    expirationDateTime: new Date(session.expiresAt).toISOString(),
    nextExpectedRanges: ['0-'],
  };
  return ex.sendJson(200, answer);
}
