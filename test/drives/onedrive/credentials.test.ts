import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTokenProvider, describeMissingCredentials, graphScope, redact } from '../../../src/drives/onedrive/credentials.js';
import { countingCredential } from './harness.js';

const config = { graphUrl: 'https://graph.microsoft.com/v1.0' };

test('a static token or a complete AZURE_* set needs nothing more', () => {
  assert.equal(describeMissingCredentials({ VMB_GRAPH_TOKEN: 'x' }), null);
  assert.equal(describeMissingCredentials({ AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's' }), null);
  assert.equal(describeMissingCredentials({ VMB_MANAGED_IDENTITY: '1' }), null);
});

test('no credentials at all says which variables to set', () => {
  const message = describeMissingCredentials({});
  assert.ok(message !== null);
  assert.match(message, /VMB_GRAPH_TOKEN/);
  assert.match(message, /AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/);
  assert.ok(!message.includes('\n'));
});

test('a half-complete AZURE_* set names the missing variables and never the secret', () => {
  const message = describeMissingCredentials({ AZURE_CLIENT_SECRET: 'hunter2-secret', AZURE_CLIENT_ID: 'c' });
  assert.equal(message, 'AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID is not');
});

test('a certificate path that does not exist is reported', () => {
  const message = describeMissingCredentials({ AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_CERTIFICATE_PATH: '/nonexistent/cert.pem' });
  assert.match(message ?? '', /\/nonexistent\/cert\.pem, which does not exist/);
});

test('building a provider without credentials is a fatal credentials-missing error', () => {
  assert.throws(() => createTokenProvider(config, { env: {} }), { kind: 'fatal', code: 'credentials-missing' });
});

test('the scope is the .default of the configured Graph origin, national clouds included', () => {
  assert.equal(graphScope('https://graph.microsoft.com/v1.0'), 'https://graph.microsoft.com/.default');
  assert.equal(graphScope('https://dod-graph.microsoft.us/v1.0/'), 'https://dod-graph.microsoft.us/.default');
});

test('a static token is used as is and is not refreshable', async () => {
  const tokens = createTokenProvider({ ...config, staticToken: 'static-abc' }, { env: {} });
  assert.equal(await tokens.token(), 'static-abc');
  assert.equal(tokens.refreshable, false);
});

test('a token is cached across requests and fetched once for concurrent callers', async () => {
  const credential = countingCredential(() => 'tok');
  const tokens = createTokenProvider(config, { credential, env: {} });
  assert.deepEqual(await Promise.all([tokens.token(), tokens.token()]), ['tok', 'tok']);
  await tokens.token();
  assert.equal(credential.calls, 1);
});

test('a token is fetched again five minutes before it expires', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const credential = countingCredential(() => 'tok');
  const tokens = createTokenProvider(config, { credential, env: {} });
  await tokens.token();
  t.mock.timers.tick(54 * 60_000);
  await tokens.token();
  assert.equal(credential.calls, 1);
  t.mock.timers.tick(2 * 60_000);
  await tokens.token();
  assert.equal(credential.calls, 2);
});

test('an invalidated token is fetched again', async () => {
  const credential = countingCredential(() => 'tok');
  const tokens = createTokenProvider(config, { credential, env: {} });
  await tokens.token();
  tokens.invalidate();
  await tokens.token();
  assert.equal(credential.calls, 2);
});

test('redact removes tempauth values, bearer tokens and known secrets', () => {
  const text = 'PUT https://x/upload?guid=1&tempauth=v1.abc.def failed; Authorization: Bearer eyJ0.eyJ1.sig; secret hunter2x';
  const out = redact(text, ['hunter2x']);
  assert.ok(!out.includes('v1.abc.def') && !out.includes('eyJ0') && !out.includes('hunter2x'), out);
  assert.match(out, /tempauth=\[redacted\]/);
});
