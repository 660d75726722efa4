import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createGovernorBuffer, OneDriveDrive } from '../../../src/drives/onedrive/index.js';
import { DEFAULT_USER_AGENT } from '../../../src/drives/onedrive/options.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/tls/${name}`, import.meta.url));

/** An HTTPS server whose certificate is signed by the test CA, which the process does not trust. */
async function untrustedGraph(): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer({ cert: fixture('server.crt'), key: fixture('server.key') }, (_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"drive"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`, requests: () => requests };
}

test('a Graph endpoint whose certificate is not trusted fails at once as tls-error, without retries', async (t) => {
  const graph = await untrustedGraph();
  t.after(() => new Promise<void>((resolve) => graph.server.close(() => resolve())));
  const target = new OneDriveDrive(
    {
      kind: 'onedrive',
      driveId: 'drive',
      remoteRoot: '/vmb',
      graphUrl: graph.url,
      chunkSize: 327_680,
      simpleUploadMax: 327_680,
      retries: 4,
      requestTimeoutMs: 5_000,
      bufferBytes: 1024 * 1024,
      governorBuffer: createGovernorBuffer(),
      maxRate: 0,
      bwlimit: 0,
      userAgent: DEFAULT_USER_AGENT,
      staticToken: 'token',
    },
    { env: {} },
  );
  t.after(() => target.close());
  // Retried, a certificate failure would come back as network-error after the governor's backoffs.
  await assert.rejects(target.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' }), (err: Error & { code?: string; kind?: string }) => {
    assert.equal(err.kind, 'fatal');
    assert.equal(err.code, 'tls-error');
    assert.match(err.message, /certificate/i);
    return true;
  });
  assert.equal(graph.requests(), 0, 'no request may reach a server whose certificate failed');
});
