import Agent from 'undici/lib/dispatcher/agent.js';

/**
 * The smallest Graph client that can upload to the emulator: undici's dispatcher (the same HTTP
 * library as the importer, and the cheapest client Node has) with keep-alive sockets, no retries,
 * no pacing, no token refresh, no timers. Used by the emulator-alone floor and by the reference
 * importer; anything a request gets other than the expected status throws.
 */
export interface MiniGraph {
  rootId(remoteRoot: string): Promise<string>;
  /** Get-or-create a folder (POST with conflictBehavior=fail, GET on 409), as the target does. */
  folder(parentId: string, name: string): Promise<string>;
  /** Simple upload (≤ simpleUploadMax) or upload session in chunks; returns the drive's item. */
  upload(parentId: string, name: string, size: number, chunk: (from: number, length: number) => Promise<Buffer> | Buffer, chunkSize: number, simpleMax: number): Promise<{ id: string; quickXorHash?: string }>;
  close(): void;
}

export interface Reply {
  status: number;
  body: Buffer;
}

export function miniGraph(graphUrl: string, driveId: string, token: string, maxSockets: number): MiniGraph {
  const agent = new Agent({ connections: maxSockets, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const base = new URL(graphUrl);
  const drive = `${base.pathname.replace(/\/$/, '')}/drives/${encodeURIComponent(driveId)}`;

  const send = (method: string, target: string, body: Buffer | string | null, headers: Record<string, string>, auth = true): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const u = target.startsWith('http') ? new URL(target) : null;
      const parts: Buffer[] = [];
      let status = 0;
      agent.dispatch(
        {
          origin: u ? u.origin : base.origin,
          path: u ? `${u.pathname}${u.search}` : target,
          method,
          headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), ...headers },
          body,
        },
        {
          onRequestStart() {},
          onResponseStart(_c, statusCode) {
            status = statusCode;
          },
          onResponseData(_c, d) {
            parts.push(d);
          },
          onResponseEnd() {
            resolve({ status, body: parts.length === 1 ? parts[0] : Buffer.concat(parts) });
          },
          onResponseError(_c, err) {
            reject(err);
          },
        },
      );
    });

  const expect = (r: Reply, ok: number[], what: string) => {
    if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
    return r.body.length ? (JSON.parse(r.body.toString('utf8')) as Record<string, any>) : {};
  };
  const childPath = (parentId: string, name: string) => `${drive}/items/${encodeURIComponent(parentId)}:/${encodeURIComponent(name)}:`;

  const folder = async (parentId: string, name: string): Promise<string> => {
    const body = JSON.stringify({ name, folder: {}, '@microsoft.graph.conflictBehavior': 'fail' });
    const r = await send('POST', `${drive}/items/${encodeURIComponent(parentId)}/children`, body, { 'content-type': 'application/json' });
    if (r.status === 409) return expect(await send('GET', childPath(parentId, name), null, {}), [200], `GET folder ${name}`).id as string;
    return expect(r, [200, 201], `POST folder ${name}`).id as string;
  };

  return {
    async rootId(remoteRoot) {
      let id = expect(await send('GET', `${drive}/root`, null, {}), [200], 'GET root').id as string;
      for (const seg of remoteRoot.split('/').filter(Boolean)) id = await folder(id, seg);
      return id;
    },
    folder,
    async upload(parentId, name, size, chunk, chunkSize, simpleMax) {
      if (size <= simpleMax) {
        const body = await chunk(0, size);
        const item = expect(
          await send('PUT', `${childPath(parentId, name)}/content?@microsoft.graph.conflictBehavior=replace`, body, { 'content-type': 'application/octet-stream' }),
          [200, 201],
          `PUT ${name}`,
        );
        return { id: item.id as string, quickXorHash: item.file?.hashes?.quickXorHash };
      }
      const session = expect(
        await send('POST', `${childPath(parentId, name)}/createUploadSession`, JSON.stringify({ item: { '@microsoft.graph.conflictBehavior': 'replace' } }), { 'content-type': 'application/json' }),
        [200],
        `createUploadSession ${name}`,
      );
      const url = session.uploadUrl as string;
      for (let from = 0; from < size; from += chunkSize) {
        const len = Math.min(chunkSize, size - from);
        const r = await send('PUT', url, await chunk(from, len), { 'content-type': 'application/octet-stream', 'content-range': `bytes ${from}-${from + len - 1}/${size}` }, false);
        const j = expect(r, [200, 201, 202], `chunk ${from} of ${name}`);
        if (r.status !== 202) return { id: j.id as string, quickXorHash: j.file?.hashes?.quickXorHash };
      }
      throw new Error(`${name}: upload session never completed`);
    },
    close() {
      void agent.destroy();
    },
  };
}

/** Run `fn` over `items` with at most `n` at once; stops at the first error. */
export async function eachLimit<T>(items: Iterable<T>, n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let i = 0;
  let failed: unknown = null;
  const lane = async () => {
    for (;;) {
      if (failed) return;
      const next = it.next();
      if (next.done) return;
      try {
        await fn(next.value, i++);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, lane));
  if (failed) throw failed;
}
