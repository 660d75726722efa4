/**
 * Top self-time functions of V8 CPU profiles (`node --cpu-prof --cpu-prof-dir=DIR …`), one table
 * per profile file (the main thread and each worker thread write their own).
 *
 *   node dist/bench/profile-top.js DIR [--top 25]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const dir = positionals[0] ?? '.';
const top = Number(values.top);
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const p = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const totals = new Map<string, number>();
  let all = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/(node_modules|dist)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`;
    totals.set(key, (totals.get(key) ?? 0) + us);
    all += us;
  }
  const idle = [...totals].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
  process.stdout.write(`\n${file}: ${(all / 1e6).toFixed(2)} s sampled, ${(((all - idle) / 1e6)).toFixed(2)} s not idle\n`);
  for (const [k, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${k}\n`);
  }
}
