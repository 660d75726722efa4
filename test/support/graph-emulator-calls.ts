/**
 * Helpers for the Graph emulator's own tests: real HTTP requests (node's fetch) to an emulator
 * started per test, and the JSON shapes those tests read.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startGraphEmulator } from './graph-emulator/server.js';
import type { EmulatorOptions, GraphEmulator } from './graph-emulator/server.js';

export const KiB320 = 327_680;
export const CONFLICT = '@microsoft.graph.conflictBehavior';

export interface DriveItem {
  id: string;
  name: string;
  size: number;
  parentReference: { id?: string; path?: string; driveId?: string };
  folder?: { childCount: number };
  file?: { hashes: { quickXorHash: string } };
  root?: object;
  deleted?: object;
  cTag?: string;
}

export interface GraphErrorBody {
  error: { code: string; message: string; innerError: { code?: string } };
  nextExpectedRanges?: string[];
}

export interface SessionBody {
  uploadUrl: string;
  expirationDateTime: string;
  nextExpectedRanges: string[];
}

export interface DeltaPage {
  value: DriveItem[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export async function start(t: TestContext, options: EmulatorOptions = {}): Promise<GraphEmulator> {
  const graph = await startGraphEmulator(options);
  t.after(() => graph.close());
  return graph;
}

/** A clock tests move by hand: `clock.now` goes into EmulatorOptions.clock. */
export function manualClock(startAt = Date.UTC(2026, 0, 1)): { now: () => number; advance: (ms: number) => void } {
  let at = startAt;
  return {
    now: () => at,
    advance: (ms: number) => {
      at += ms;
    },
  };
}

/** A Graph call with the bearer token, relative to the drive: `call(g, 'GET', '/root')`. */
export function call(graph: GraphEmulator, method: string, drivePath: string, body?: unknown, token = graph.token): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: RequestInit['body'];
  if (body instanceof Uint8Array) {
    payload = body;
    headers['content-type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  return fetch(`${graph.url}/drives/${graph.driveId}${drivePath}`, { method, headers, body: payload });
}

/** A GET of an absolute URL (a nextLink or deltaLink) with the bearer token. */
export function follow(graph: GraphEmulator, url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers: { authorization: `Bearer ${graph.token}`, ...headers } });
}

export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export async function mkdir(graph: GraphEmulator, parentId: string, name: string): Promise<DriveItem> {
  const response = await call(graph, 'POST', `/items/${parentId}/children`, { name, folder: {}, [CONFLICT]: 'fail' });
  assert.equal(response.status, 201);
  return json<DriveItem>(response);
}

export async function upload(graph: GraphEmulator, parentId: string, name: string, content: Buffer): Promise<DriveItem> {
  const response = await call(graph, 'PUT', `/items/${parentId}:/${encodeURIComponent(name)}:/content`, content);
  assert.equal(response.status, 201);
  return json<DriveItem>(response);
}

export function putChunk(uploadUrl: string, bytes: Buffer, start: number, total: number, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(uploadUrl, {
    method: 'PUT',
    headers: { 'content-range': `bytes ${start}-${start + bytes.length - 1}/${total}`, ...headers },
    body: bytes,
  });
}

export async function createSession(graph: GraphEmulator, parentId: string, name: string, behavior = 'fail'): Promise<SessionBody> {
  const response = await call(graph, 'POST', `/items/${parentId}:/${encodeURIComponent(name)}:/createUploadSession`, {
    item: { [CONFLICT]: behavior },
  });
  assert.equal(response.status, 200);
  return json<SessionBody>(response);
}

export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
