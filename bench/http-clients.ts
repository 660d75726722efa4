/**
 * `node dist/bench/http-clients.js [--requests N] [--concurrency N]`: what one 4 KiB PUT to the
 * Graph emulator (latency 0, its own process) costs the client's CPU, through node:http with a
 * keep-alive agent, through undici's `request`, and through undici's `dispatch` (what the importer
 * uses). Each client runs twice, in turn; the second round is the warmed-up one.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Agent, type Dispatcher } from 'undici';
import { startEmulator } from './lib/emulator.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '16' } } });
  const N = Number(values.requests);
  const C = Number(values.concurrency);
  const body = Buffer.alloc(4096, 7);
  const emu = await startEmulator(0);
  const base = new URL(emu.url);
  const auth = { authorization: `Bearer ${emu.token}` };
  const drive = `${base.pathname}/drives/${emu.driveId}`;
  const root = ((await (await fetch(`${base.origin}${drive}/root`, { headers: auth })).json()) as { id: string }).id;
  const path = (i: number) => `${drive}/items/${root}:/f${i}.bin:/content?@microsoft.graph.conflictBehavior=replace`;
  const headers = { 'user-agent': 'vmb-bench', accept: 'application/json', ...auth, 'content-type': 'application/octet-stream', 'content-length': String(body.length) };

  const nodeAgent = new http.Agent({ keepAlive: true });
  const viaNodeHttp = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(new URL(base.origin + path(i)), { method: 'PUT', agent: nodeAgent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (JSON.parse(Buffer.concat(chunks).toString('utf8')), resolve()));
        res.on('error', reject);
      });
      req.setTimeout(60_000, () => req.destroy());
      req.on('error', reject);
      req.end(body);
    });

  const agent = new Agent();
  const viaRequest = async (i: number) => {
    const res = await agent.request({ origin: base.origin, method: 'PUT', path: path(i), headers, body });
    JSON.parse(Buffer.from(await res.body.arrayBuffer()).toString('utf8'));
  };
  const viaDispatch = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart() {},
        onResponseStart() {},
        onResponseData(_c, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve();
        },
        onResponseError(_c, err) {
          reject(err);
        },
      };
      agent.dispatch({ origin: base.origin, method: 'PUT', path: path(i), headers, body }, handler);
    });

  try {
    for (let round = 1; round <= 2; round++) {
      process.stdout.write(`round ${round}, ${N} PUTs of 4 KiB, ${C} at once\n`);
      await measure('  node:http', viaNodeHttp, N, C);
      await measure('  undici request', viaRequest, N, C);
      await measure('  undici dispatch', viaDispatch, N, C);
    }
  } finally {
    nodeAgent.destroy();
    await agent.destroy();
    await emu.close();
  }
}

async function measure(name: string, one: (i: number) => Promise<void>, requests: number, concurrency: number): Promise<void> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) await one(next++);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  process.stdout.write(`${name}: ${Math.round((requests * 1000) / ms)} requests/s, ${((cpu.user + cpu.system) / requests).toFixed(0)} µs of client CPU per request\n`);
}

await main();
