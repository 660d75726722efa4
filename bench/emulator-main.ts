/**
 * The Graph emulator in its own process for the benchmark (forked with an IPC channel), so it does
 * not share an event loop with the harness or a floor client. It keeps no file bytes
 * (`storeContent: false`: only sizes and hashes) and records requests only to count them.
 *
 * Parent → child messages: { type: 'latency', ms }, { type: 'stats' }, { type: 'close' },
 * { type: 'budget', units, windowMs?, ...BudgetOptions } (a fresh budget; no answer) and
 * { type: 'budget', off: true } (no budget; no answer).
 * Child → parent: { type: 'ready', url, token, driveId, statsUrl } once listening, and
 * { type: 'stats', files, folders, bytes, requests, failed, failures, byMethod, budget, sessions } in
 * answer to 'stats' (`budget`: the emulator's BudgetStats, RU counted even with no budget configured;
 * `sessions`: every upload session with the bytes it took, cut off and refused).
 * { type: 'seed', remoteRoot, corps, folders, files, size } builds a drive out of band (no request
 * recorded) and answers { type: 'seeded', items } with every item below the remote root (see
 * bench/lib/emulator.ts `SeededItem`), for a ledger that matches it.
 * A bad budget is a harness bug: it is reported on stderr and the child exits with 2.
 */
import { startGraphEmulator } from '../test/support/graph-emulator/server.js';
import type { BudgetOptions } from '../test/support/graph-emulator/server.js';
import type { SeedSpec, SeededItem } from './lib/emulator.js';

/** `<remote root>/<corp>/<folder>/<file>`: corps × folders × files files, the folders above them. */
function seed(spec: SeedSpec): SeededItem[] {
  const out: SeededItem[] = [];
  const root = emulator.seedItem(emulator.rootId, spec.remoteRoot.replace(/^\//, ''), null);
  const content = Buffer.alloc(spec.size, 1);
  for (let c = 0; c < spec.corps; c++) {
    const corp = String(1000 + c);
    const corpId = emulator.seedItem(root, corp, null);
    out.push({ corp: 1000 + c, id: corpId, parentId: null, name: corp, path: corp, isFolder: true, childCount: spec.folders });
    for (let f = 0; f < spec.folders; f++) {
      const name = `f${f}`;
      const folderPath = `${corp}/${name}`;
      const folderId = emulator.seedItem(corpId, name, null);
      out.push({ corp: 1000 + c, id: folderId, parentId: corpId, name, path: folderPath, isFolder: true, childCount: spec.files });
      for (let i = 0; i < spec.files; i++) {
        const file = `file-${i}.bin`;
        out.push({ corp: 1000 + c, id: emulator.seedItem(folderId, file, content), parentId: folderId, name: file, path: `${folderPath}/${file}`, isFolder: false, childCount: 0 });
      }
    }
  }
  return out;
}

const latencyMs = Number(process.argv[2] ?? '0');
const emulator = await startGraphEmulator({ storeContent: false, recordRequests: true, driveId: 'drive-bench', token: 'bench-token' });
emulator.faults.latencyMs = latencyMs;

type Message =
  | { type: 'latency'; ms: number }
  | { type: 'stats' }
  | { type: 'close' }
  | ({ type: 'seed' } & SeedSpec)
  | ({ type: 'budget'; off?: undefined } & BudgetOptions)
  | { type: 'budget'; off: true };

function applyBudget(m: Extract<Message, { type: 'budget' }>): void {
  if (m.off === true) return emulator.budget.off();
  const { type: _type, off: _off, ...options } = m;
  try {
    emulator.budget.configure(options);
  } catch (error) {
    console.error(`emulator-main: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
}

process.on('message', (m: Message) => {
  if (m.type === 'latency') emulator.faults.latencyMs = m.ms;
  else if (m.type === 'budget') applyBudget(m);
  else if (m.type === 'stats') {
    const items = emulator.items();
    const requests = emulator.requests();
    const byMethod: Record<string, number> = {};
    let failed = 0;
    const failures: Record<string, number> = {};
    for (const r of requests) {
      const key = `${r.method} ${r.path.startsWith('/upload/') ? 'upload-url' : r.path.endsWith('/content') ? 'content' : r.path.endsWith('/children') ? 'children' : r.path.endsWith('/createUploadSession') ? 'createUploadSession' : 'item'}`;
      byMethod[key] = (byMethod[key] ?? 0) + 1;
      // Expected refusals: 409 (a folder that exists: the client then looks it up) and 404 on a
      // GET (a lookup of something not there yet). Anything else 4xx/5xx, or no answer, failed.
      const expected = r.status === 409 || (r.status === 404 && r.method === 'GET');
      if (r.status === 0 || (r.status >= 400 && !expected)) {
        failed++;
        const k = `${key} ${r.status}`;
        failures[k] = (failures[k] ?? 0) + 1;
      }
    }
    process.send!({
      type: 'stats',
      files: items.filter((i) => !i.isFolder).length,
      folders: items.filter((i) => i.isFolder).length,
      bytes: items.reduce((n, i) => n + (i.isFolder ? 0 : i.size), 0),
      requests: requests.length,
      failed,
      failures,
      byMethod,
      budget: emulator.budget.stats(),
      sessions: emulator.uploadSessions().map(({ name, state, received, bytesAccepted, bytesCutOff, bytesRefused }) => ({ name, state, received, bytesAccepted, bytesCutOff, bytesRefused })),
    });
  } else if (m.type === 'seed') {
    process.send!({ type: 'seeded', items: seed(m) });
  } else if (m.type === 'close') {
    void emulator.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => void emulator.close().then(() => process.exit(0)));
process.send!({ type: 'ready', url: emulator.url, token: emulator.token, driveId: emulator.driveId, statsUrl: emulator.statsUrl });
