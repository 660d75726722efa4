/**
 * Parses request paths into the Graph addressing forms an uploader uses:
 *   /v1.0/drives/{d}
 *   /v1.0/drives/{d}/root[/action]            /v1.0/drives/{d}/items/{id}[/action]
 *   /v1.0/drives/{d}/root:/a/b:[/action]      /v1.0/drives/{d}/items/{id}:/rel/path:[/action]
 *   /v1.0/drives/{d}/root/delta               (the change feed)
 *   /upload/sessions/{sessionId}              (upload URLs; not Graph, no bearer token)
 *   /_emulator/stats                          (the emulator's own counters; not Graph)
 * Path segments are percent-decoded one by one, after splitting on `/`, as Graph does, so an
 * encoded `%2F` stays inside its segment (and is then rejected as a name character).
 */
import { invalidRequest } from './graph-error.js';

export const GRAPH_PREFIX = '/v1.0';
export const UPLOAD_PREFIX = '/upload/sessions/';
/** The emulator's own endpoints, outside anything Graph serves. */
export const STATS_PATH = '/_emulator/stats';

export type ItemAction = 'self' | 'children' | 'content' | 'createUploadSession' | 'delta';

export type Route =
  | { kind: 'drive'; driveId: string }
  | {
      kind: 'item';
      driveId: string;
      /** An item id, or 'root'. */
      baseId: string;
      /** Decoded names after `:` addressing; empty when the item is addressed by id alone. */
      segments: string[];
      action: ItemAction;
    }
  | { kind: 'upload'; sessionId: string }
  | { kind: 'unknown' };

const ACTIONS: Record<string, ItemAction> = {
  '': 'self',
  '/children': 'children',
  '/content': 'content',
  '/createuploadsession': 'createUploadSession',
  '/delta': 'delta',
};

const UNKNOWN: Route = { kind: 'unknown' };

export function parseRoute(path: string): Route {
  if (path.startsWith(UPLOAD_PREFIX)) {
    const sessionId = path.slice(UPLOAD_PREFIX.length);
    return sessionId === '' || sessionId.includes('/') ? UNKNOWN : { kind: 'upload', sessionId };
  }
  if (!path.startsWith(`${GRAPH_PREFIX}/drives/`)) return UNKNOWN;

  let rest = path.slice(GRAPH_PREFIX.length + '/drives/'.length);
  const driveEnd = rest.indexOf('/');
  const driveId = decodeSegment(driveEnd < 0 ? rest : rest.slice(0, driveEnd));
  if (driveEnd < 0 || rest.length === driveEnd + 1) return { kind: 'drive', driveId };
  rest = rest.slice(driveEnd);

  let baseId: string;
  if (rest.startsWith('/root') && (rest.length === 5 || rest[5] === '/' || rest[5] === ':')) {
    baseId = 'root';
    rest = rest.slice(5);
  } else if (rest.startsWith('/items/')) {
    rest = rest.slice(7);
    const idEnd = rest.search(/[/:]/);
    baseId = decodeSegment(idEnd < 0 ? rest : rest.slice(0, idEnd));
    rest = idEnd < 0 ? '' : rest.slice(idEnd);
  } else {
    return UNKNOWN;
  }

  let segments: string[] = [];
  if (rest.startsWith(':')) {
    // A literal ':' can only be the closing delimiter: inside names it must arrive as %3A.
    const close = rest.indexOf(':', 1);
    const relative = close < 0 ? rest.slice(1) : rest.slice(1, close);
    segments = relative
      .split('/')
      .filter((s) => s !== '')
      .map(decodeSegment);
    rest = close < 0 ? '' : rest.slice(close + 1);
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  const action = ACTIONS[rest.toLowerCase()];
  if (action === undefined) return UNKNOWN;
  return { kind: 'item', driveId, baseId, segments, action };
}

function decodeSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidRequest(`The path segment "${raw}" is not valid percent-encoded UTF-8.`, 'invalidPath');
  }
}
