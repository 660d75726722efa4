import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabase, serverUrl, withClient, withDatabase } from '../support/database.js';
import { runCli, startCli, type CliResult } from '../support/cli.js';
import { makeTree, tempDir } from '../support/trees.js';
import { dumpCorporateSchema, failureRows, waitFor } from '../support/faults.js';
import { sessionRows } from '../support/sessions.js';
import { freePort } from '../../src/ledger/embedded.js';
import { startGraphEmulator } from '../support/graph-emulator/server.js';

const CHUNK = 327_680;

/** A Graph look-alike that answers every request 400 with the request's credentials in the error message. */
async function startEchoingGraph(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const auth = String(req.headers.authorization ?? '');
    const body = JSON.stringify({ error: { code: 'invalidRequest', message: `echo: token=${auth.replace(/^bearer\s+/i, '')} header=${auth} url=${req.url}` } });
    res.writeHead(400, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('no password, token or upload-URL credential appears in any output, log line, error or database row', async (t) => {
  const tag = randomBytes(6).toString('hex');
  const role = `vmb_secret_${tag}`;
  const password = `Pw${tag}Sekr3tDb`;
  const wrongPassword = `Wr0ng${tag}Pw`;
  const token = `Tk${tag}Gr4phBearer`;
  const db = await freshDatabase('secrets');
  await withClient(serverUrl(), async (c) => {
    await c.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN SUPERUSER PASSWORD ${pg.escapeLiteral(password)}`);
    await c.query(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} OWNER TO ${pg.escapeIdentifier(role)}`);
  });
  const withPassword = (pw: string) => {
    const u = new URL(withDatabase(serverUrl(), db.name));
    u.username = role;
    u.password = pw;
    return u.toString();
  };
  const url = withPassword(password);
  const emulator = await startGraphEmulator({ token, simpleUploadMax: CHUNK, storeContent: false });
  const echo = await startEchoingGraph();
  const logs = await tempDir('logs');
  const outputs: Array<[string, CliResult]> = [];
  const run = async (label: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await runCli(args, env);
    outputs.push([label, r]);
    return r;
  };
  try {
    const src = await tempDir('src');
    const files = await makeTree(src, { corps: [41], folders: ['', 'a'], filesPerFolder: 5, size: () => 100 });
    await writeFile(path.join(src, '41', 'doomed.txt'), 'always answered 500');
    await writeFile(path.join(src, '41', 'doomed-big.bin'), randomBytes(3 * CHUNK + 1));
    await writeFile(path.join(src, '41', 'what?.txt'), 'a name OneDrive forbids');
    await mkdir(path.join(src, '41', 'empty'));
    // Every try of doomed.txt and every chunk of doomed-big.bin fails, so both files fail for good.
    emulator.faults.failNext({ count: 1000, status: 500, match: (req) => req.path.includes('doomed.txt') || (req.toUploadUrl && req.method === 'PUT' && String(req.headers['content-range']).endsWith(`/${3 * CHUNK + 1}`)) });
    const graph = ['--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--remote-root', '/secrets', '--chunk-size', String(CHUNK), '--simple-upload-max', String(CHUNK), '--retries', '1'];
    const logged = (n: number) => ['--log-level', 'debug', '--log-file', path.join(logs, `run-${n}.log`)];

    const failing = await run('import with failing files', [src, ...graph, '--database-url', url, ...logged(1), '--json', '--no-progress'], { VMB_GRAPH_TOKEN: token });
    assert.equal(failing.code, 1, failing.stderr);
    const summary = JSON.parse(failing.stdout);
    assert.equal(summary.uploaded, files.length);
    assert.deepEqual(summary.failures.map((f: any) => [f.path, f.code]).sort(), [
      ['41/doomed-big.bin', 'graph-server-error'],
      ['41/doomed.txt', 'graph-server-error'],
      ['41/what?.txt', 'name-invalid-char'],
    ]);
    assert.equal((await failureRows(url, summary.runId)).length, 3, 'the failures are in the ledger, to be searched too');
    assert.ok(emulator.requests().some((q) => q.query.tempauth), 'the run used upload sessions');

    // The same from the environment and logging to stderr, at debug level.
    const fromEnv = await run('import with DATABASE_URL, logging to stderr', [src, ...graph, '--log-level', 'debug', '--no-progress'], { VMB_GRAPH_TOKEN: token, DATABASE_URL: url });
    assert.equal(fromEnv.code, 1, fromEnv.stderr);
    assert.match(fromEnv.stderr, /doomed\.txt/, 'the failures were logged to stderr');

    const echoed = await run('a Graph URL that echoes the credentials', [src, ...graph.map((a) => (a === emulator.url ? echo.url : a)), '--database-url', url, ...logged(2), '--no-progress'], { VMB_GRAPH_TOKEN: token });
    assert.equal(echoed.code, 2, echoed.stderr);
    assert.match(echoed.stderr, /echo: token=\[redacted\]/, 'the echoed error message reached the user, redacted');
    t.diagnostic(`echoing Graph: ${echoed.stderr.trim()}`);

    const closedPort = await freePort();
    const unreachable = await run('a Graph URL nothing listens on', [src, ...graph.map((a) => (a === emulator.url ? `http://127.0.0.1:${closedPort}/v1.0` : a)), '--database-url', url, ...logged(3), '--no-progress'], { VMB_GRAPH_TOKEN: token });
    assert.equal(unreachable.code, 2, unreachable.stderr);

    const refused = await run('a wrong database password', [src, ...graph, '--database-url', withPassword(wrongPassword), ...logged(4), '--no-progress'], { VMB_GRAPH_TOKEN: token });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /refused the login/);
    t.diagnostic(`wrong password: ${refused.stderr.trim()}`);

    for (const [label, args] of [
      ['runs', ['runs', '--json', '--database-url', url]],
      ['failures', ['failures', '--json', '--database-url', url]],
      ['runs (text)', ['runs', '--database-url', url]],
    ] as const) {
      const r = await run(label, [...args]);
      assert.equal(r.code, 0, r.stderr);
    }

    const tempauths = [...new Set(emulator.requests().map((q) => q.query.tempauth).filter((x): x is string => Boolean(x)))];
    const secrets: Array<[string, string]> = [
      ['database password', password],
      ['wrong database password', wrongPassword],
      ['Graph token', token],
      ...tempauths.map((x): [string, string] => ['upload-session tempauth', x]),
    ];
    const places: Array<[string, string]> = [];
    for (const [label, r] of outputs) places.push([`${label}: stdout`, r.stdout], [`${label}: stderr`, r.stderr]);
    for (const n of [1, 2, 3, 4]) places.push([`log file ${n}`, await readFile(path.join(logs, `run-${n}.log`), 'utf8').catch(() => '')]);
    const rows = await dumpCorporateSchema(withDatabase(serverUrl(), db.name));
    places.push(['database (every row of schema corporate)', rows.join('\n')]);

    assert.ok((await readFile(path.join(logs, 'run-1.log'), 'utf8')).includes('doomed-big.bin'), 'the log file holds the failures');
    assert.ok(rows.some((x) => x.startsWith('vmb_import_runs: ')) && rows.some((x) => x.startsWith('vmb_import_failures: ')));
    t.diagnostic(`searched ${places.length} outputs (${places.reduce((n, [, text]) => n + text.length, 0)} characters) for ${secrets.length} secrets`);
    const leaks: string[] = [];
    for (const [where, text] of places) {
      for (const [what, secret] of secrets) {
        const at = text.indexOf(secret);
        if (at >= 0) leaks.push(`${what} in ${where}: …${text.slice(Math.max(0, at - 120), at + secret.length + 40)}…`);
      }
    }
    assert.deepEqual(leaks, []);
  } finally {
    await emulator.close();
    await echo.close();
    await withClient(withDatabase(serverUrl(), db.name), (c) => c.query(`REASSIGN OWNED BY ${pg.escapeIdentifier(role)} TO CURRENT_USER`)).catch(() => undefined);
    await withClient(serverUrl(), (c) => c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`)).catch(() => undefined);
  }
});

test(
  'a database password given as a query parameter of the URL (libpq ?password=) is not shown in the error either',
  async () => {
    const db = await freshDatabase('secrets_query');
    const src = await tempDir('src');
    const drive = await tempDir('drive');
    await makeTree(src, { corps: [42], folders: [''], filesPerFolder: 1 });
    const wrongPassword = `Qp${randomBytes(6).toString('hex')}Wr0ng`;
    const u = new URL(withDatabase(serverUrl(), db.name));
    u.password = '';
    u.searchParams.set('password', wrongPassword);
    const unreachable = new URL(u);
    unreachable.port = String(await freePort());

    const refused = await runCli([src, '--database-url', u.toString(), '--local-root', drive, '--no-progress']);
    const down = await runCli([src, '--database-url', unreachable.toString(), '--local-root', drive, '--no-progress']);

    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /refused the login/, 'the query-string password was used');
    assert.equal(down.code, 2, down.stderr);
    for (const r of [refused, down]) {
      assert.ok(!`${r.stdout}${r.stderr}`.includes(wrongPassword), `password shown: ${r.stderr.trim()}`);
    }
  },
);

test('an upload URL kept for the next run is in vmb_upload_sessions and in no output, log line or other table', async () => {
  const db = await freshDatabase('secrets_sessions');
  const emulator = await startGraphEmulator({ storeContent: false });
  const logs = await tempDir('logs');
  try {
    const src = await tempDir('src');
    await mkdir(path.join(src, '43'));
    await writeFile(path.join(src, '43', 'kept.bin'), randomBytes(40 * CHUNK));
    await writeFile(path.join(src, '43', 'doomed.bin'), randomBytes(6 * CHUNK));
    // doomed.bin's chunks always fail, so its session is cancelled and the failure recorded.
    emulator.faults.failNext({ count: 1000, status: 500, match: (req) => req.toUploadUrl && req.method === 'PUT' && String(req.headers['content-range']).endsWith(`/${6 * CHUNK}`) });
    emulator.faults.latencyMs = 100;
    const graph = ['--target', 'onedrive', '--graph-url', emulator.url, '--drive-id', emulator.driveId, '--chunk-size', String(CHUNK), '--simple-upload-max', String(CHUNK), '--retries', '1', '--database-url', db.url];
    const logged = (n: number) => ['--log-level', 'trace', '--log-file', path.join(logs, `run-${n}.log`)];
    const outputs: CliResult[] = [];

    // Stopped by its bound mid-upload: the session is kept.
    const first = startCli([src, ...graph, ...logged(1), '--threads', '1', '--grace', '0s', '--json', '--no-progress'], { VMB_GRAPH_TOKEN: emulator.token });
    await waitFor('fragments of kept.bin', () => emulator.uploadSessions().some((x) => x.name === 'kept.bin' && x.fragmentsAccepted >= 3), 60_000, 10);
    first.child.kill('SIGTERM');
    outputs.push(await first.done);
    const [kept] = await sessionRows(db.url);
    assert.ok(kept?.upload_url.includes('tempauth='), 'the kept session is in its table');
    for (const args of [['runs', '--json'], ['runs'], ['failures', '--json'], ['failures']]) outputs.push(await runCli([...args, '--database-url', db.url]));
    emulator.faults.latencyMs = 0;
    // The next run continues it (and meets doomed.bin again).
    outputs.push(await runCli([src, ...graph, ...logged(2), '--json', '--no-progress'], { VMB_GRAPH_TOKEN: emulator.token }));
    assert.equal(JSON.parse(outputs.at(-1)!.stdout).resumed, 1, outputs.at(-1)!.stderr);

    const secrets = [...new Set(emulator.requests().map((q) => q.query.tempauth).filter((x): x is string => Boolean(x)))];
    assert.ok(secrets.length >= 2, 'both files went through upload sessions');
    const places: Array<[string, string]> = outputs.flatMap((r, i): Array<[string, string]> => [[`output ${i}: stdout`, r.stdout], [`output ${i}: stderr`, r.stderr]]);
    for (const n of [1, 2]) places.push([`log file ${n}`, await readFile(path.join(logs, `run-${n}.log`), 'utf8')]);
    places.push(['database (every row but vmb_upload_sessions)', (await dumpCorporateSchema(db.url)).filter((row) => !row.startsWith('vmb_upload_sessions: ')).join('\n')]);
    const leaks = places.flatMap(([where, text]) => secrets.filter((x) => text.includes(x)).map((x) => `tempauth ${x.slice(0, 8)}… in ${where}`));
    assert.deepEqual(leaks, []);
    assert.ok(places.some(([, text]) => text.includes('doomed.bin')), 'the outputs searched do hold the failure');
  } finally {
    await emulator.close();
  }
});
