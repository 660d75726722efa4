/**
 * Requests to an uploadUrl: PUT a chunk, GET the session's status, DELETE to cancel, and the empty
 * POST that commits a `deferCommit` session. These carry no bearer token: the URL's `tempauth` is
 * the credential, and an Authorization header is refused with 401 as the real service can. A URL
 * whose token has outlived `sessionTokenLifetimeMs` answers 401 expiredToken; a denied session 403.
 */
import type { EmulatorContext } from './context.js';
import { ClientGone, headerValue } from './exchange.js';
import type { Exchange } from './exchange.js';
import { GraphError, accessDenied, expiredToken, invalidRequest, itemNotFound, unauthenticated } from './graph-error.js';
import { MAX_FRAGMENT_BYTES, parseContentRange, sessionStatus } from './upload-sessions.js';
import type { UploadSession } from './upload-sessions.js';

export async function handleUploadRequest(ctx: EmulatorContext, ex: Exchange, sessionId: string): Promise<void> {
  if (ex.req.headers.authorization !== undefined) {
    throw unauthenticated('Requests to an upload URL must not carry an Authorization header; the URL carries its own tempauth.');
  }
  const session = liveSession(ctx, sessionId);
  if (ex.record.query.tempauth !== session.tempauth) throw unauthenticated('The tempauth in the upload URL is not valid for this session.');
  if (ctx.sessions.tokenExpired(session, ctx.faults.sessionTokenLifetimeMs)) {
    ctx.faults.counts.expiredTokenHits++;
    throw expiredToken();
  }
  if (session.denied) {
    ctx.faults.counts.deniedSessionHits++;
    throw accessDenied('Access to this upload session is denied.');
  }

  switch (ex.req.method) {
    case 'PUT':
      return putChunk(ctx, ex, session);
    case 'GET':
      return ex.sendJson(200, sessionStatus(session));
    case 'DELETE':
      ctx.sessions.end(session, 'cancelled');
      return ex.sendEmpty(204);
    case 'POST':
      return commitDeferred(ctx, ex, session);
    default:
      throw new GraphError(405, 'invalidRequest', 'The HTTP method is not allowed for an upload URL.');
  }
}

function liveSession(ctx: EmulatorContext, sessionId: string): UploadSession {
  return ctx.sessions.get(sessionId, () => ctx.faults.counts.expiredSessionHits++);
}

async function putChunk(ctx: EmulatorContext, ex: Exchange, session: UploadSession): Promise<void> {
  const current = await receiveChunk(ctx, ex, session);
  if (!ctx.sessions.isComplete(current) || current.deferCommit) return ex.sendJson(202, sessionStatus(current));
  return commit(ctx, ex, current);
}

/** Takes the chunk into the session, or counts its bytes as cut off or refused and throws. */
async function receiveChunk(ctx: EmulatorContext, ex: Exchange, session: UploadSession): Promise<UploadSession> {
  try {
    const range = parseContentRange(headerValue(ex.req.headers['content-range']));
    const lengthHeader = headerValue(ex.req.headers['content-length']);
    ctx.sessions.checkChunk(session, range, lengthHeader === undefined ? undefined : Number(lengthHeader));

    const length = range.end - range.start + 1;
    const body = await ex.readBody(MAX_FRAGMENT_BYTES);
    if (body.size !== length) throw invalidRequest(`The body has ${body.size} bytes but the Content-Range announces ${length}.`);

    // The session may have moved on, been cancelled or expired while this body was arriving.
    const current = liveSession(ctx, session.id);
    ctx.sessions.checkPosition(current, range);
    ctx.sessions.accept(current, range, body.pieces, ctx.storeContent, ctx.faults.sessionLifetimeMs);
    return current;
  } catch (error) {
    let cutOff = error instanceof ClientGone;
    if (!cutOff) {
      // The answer waits for the whole body anyway; by then we know whether it all arrived.
      cutOff = await ex.readBody(0).then(
        () => false,
        () => true,
      );
    }
    if (cutOff) ctx.sessions.noteCutOff(session, ex.record.bytes);
    else ctx.sessions.noteRefused(session, ex.record.bytes);
    throw error;
  }
}

async function commitDeferred(ctx: EmulatorContext, ex: Exchange, session: UploadSession): Promise<void> {
  await ex.readBody(0);
  if (!session.deferCommit) throw invalidRequest('This upload session commits on its own; it was not created with deferCommit.');
  if (!ctx.sessions.isComplete(session)) throw invalidRequest('The upload session is missing bytes and cannot be committed.');
  return commit(ctx, ex, session);
}

/** The session ends here whether the file can be written or not (a 409 at commit ends it too). */
function commit(ctx: EmulatorContext, ex: Exchange, session: UploadSession): Promise<void> {
  const payload = { pieces: session.pieces, size: session.total ?? 0, hash: session.hash };
  ctx.sessions.end(session, 'completed');
  const target = session.target;
  if (target.kind === 'existing') {
    const node = ctx.drive.get(target.itemId);
    if (node === undefined) throw itemNotFound('The item this session was uploading to no longer exists.');
    ctx.drive.replaceContent(node, payload);
    return ex.sendJson(200, ctx.drive.toJson(node));
  }
  const parent = ctx.drive.get(target.parentId);
  if (parent === undefined) throw itemNotFound('The folder this session was uploading to no longer exists.');
  const { node, created } = ctx.drive.writeFile(parent, target.name, target.behavior, payload);
  return ex.sendJson(created ? 201 : 200, ctx.drive.toJson(node));
}
