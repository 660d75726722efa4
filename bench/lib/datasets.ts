import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * A data set is a regular grid, so every process of the benchmark (the harness, the floors, the
 * reference importer, the ledger seeding) can list it again from this small description instead
 * of walking the disk or passing a million names around:
 *   <root>/<corp>/f<NN>[/s<NN>]/file-<NNNNNN>.bin
 * The importer itself always walks the real tree.
 */
export interface GridSpec {
  root: string;
  corps: number[];
  folders: number;
  /** Sub-folders per folder; 0 puts the files straight into the folders. */
  subfolders: number;
  filesPerDir: number;
  size: number;
  /** Every file gets this mtime (ms, whole seconds), so the ledger can be seeded without a stat. */
  fixedMtimeMs?: number;
}

export interface GridDir {
  rel: string;
  parentRel: string | null;
  name: string;
  corp: number;
}

export interface GridFile {
  rel: string;
  dirRel: string;
  name: string;
  corp: number;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function fileCount(s: GridSpec): number {
  return s.corps.length * s.folders * Math.max(1, s.subfolders) * s.filesPerDir;
}

/** Parents before children. */
export function* gridDirs(s: GridSpec): Generator<GridDir> {
  for (const corp of s.corps) {
    const c = String(corp);
    yield { rel: c, parentRel: null, name: c, corp };
    for (let f = 0; f < s.folders; f++) {
      const fn = `f${pad(f, 2)}`;
      const fr = `${c}/${fn}`;
      yield { rel: fr, parentRel: c, name: fn, corp };
      for (let sub = 0; sub < s.subfolders; sub++) {
        const sn = `s${pad(sub, 2)}`;
        yield { rel: `${fr}/${sn}`, parentRel: fr, name: sn, corp };
      }
    }
  }
}

export function* leafDirs(s: GridSpec): Generator<GridDir> {
  for (const d of gridDirs(s)) {
    const depth = d.rel.split('/').length;
    if (depth === (s.subfolders > 0 ? 3 : 2)) yield d;
  }
}

export function* gridFiles(s: GridSpec): Generator<GridFile> {
  let n = 0;
  for (const d of leafDirs(s)) {
    for (let i = 0; i < s.filesPerDir; i++) {
      const name = `file-${pad(n++, 7)}.bin`;
      yield { rel: `${d.rel}/${name}`, dirRel: d.rel, name, corp: d.corp };
    }
  }
}

export function dirCount(s: GridSpec): number {
  return s.corps.length * (1 + s.folders * (1 + s.subfolders));
}

/**
 * Writes the tree. Empty files with a fixed mtime are made by `touch` through `xargs` (two at a
 * time, thousands of names per exec), far cheaper than one syscall round from JavaScript each;
 * files with content are written from JavaScript, every one with its own random bytes.
 */
export async function generate(s: GridSpec, log: (m: string) => void): Promise<void> {
  await rm(s.root, { recursive: true, force: true });
  for (const d of gridDirs(s)) mkdirSync(path.join(s.root, d.rel), { recursive: true });
  const total = fileCount(s);
  const started = performance.now();
  if (s.size === 0) {
    if (s.fixedMtimeMs === undefined || s.fixedMtimeMs % 1000 !== 0) throw new Error('empty data sets need a whole-second fixedMtimeMs');
    await touchAll(s);
  } else {
    await writeAll(s);
  }
  log(`generated ${total.toLocaleString('en-US')} files of ${s.size} bytes in ${s.root} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function touchAll(s: GridSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('xargs', ['-0', '-P', '2', '-n', '20000', 'touch', '-d', `@${s.fixedMtimeMs! / 1000}`, '--'], { cwd: s.root, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`xargs touch exited ${code}: ${err}`))));
    const files = gridFiles(s);
    const pump = () => {
      for (;;) {
        let chunk = '';
        for (let i = 0; i < 5000; i++) {
          const f = files.next();
          if (f.done) {
            if (chunk) child.stdin.write(chunk);
            child.stdin.end();
            return;
          }
          chunk += `${f.value.rel}\0`;
        }
        if (!child.stdin.write(chunk)) {
          child.stdin.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

async function writeAll(s: GridSpec): Promise<void> {
  const big = s.size > 1024 * 1024;
  const concurrency = big ? 2 : 32;
  // One random buffer per writer; each file differs from the others in its first 16 bytes and in
  // one byte of every 64 KiB, so no two files hash alike.
  const buffers = Array.from({ length: concurrency }, () => randomFillSync(Buffer.allocUnsafe(s.size)));
  const files = gridFiles(s);
  let n = 0;
  const writer = async (w: number) => {
    const buf = buffers[w];
    for (;;) {
      const f = files.next();
      if (f.done) return;
      const k = n++;
      if (big) {
        for (let off = 16; off < s.size; off += 65_536) buf[off] = (k * 131 + off) & 0xff;
        buf.writeUInt32LE(k, 0);
      } else randomFillSync(buf, 0, Math.min(16, s.size));
      const h = await open(path.join(s.root, f.value.rel), 'w');
      try {
        let off = 0;
        while (off < s.size) off += (await h.write(buf, off, s.size - off)).bytesWritten;
      } finally {
        await h.close();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => writer(w)));
}
