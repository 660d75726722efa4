import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import v8 from 'node:v8';
import vm from 'node:vm';
import { walk, type WalkEntry, type WalkOptions } from '../../src/walk/walk.js';

async function tempRoot(t: TestContext): Promise<string> {
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vmb-walk-'));
  t.after(() => fs.promises.rm(root, { recursive: true, force: true }));
  return root;
}

/** Creates files (content given) and directories (names ending in '/') below root. */
function makeTree(root: string, spec: Record<string, string>): void {
  for (const [rel, content] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    if (rel.endsWith('/')) {
      fs.mkdirSync(abs, { recursive: true });
    } else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, content);
    }
  }
}

async function collect(options: WalkOptions): Promise<WalkEntry[]> {
  const entries: WalkEntry[] = [];
  for await (const entry of walk(options)) entries.push(entry);
  return entries;
}

const rels = (entries: WalkEntry[], kind: WalkEntry['kind']) =>
  entries.filter((e) => e.kind === kind).map((e) => e.relPath).sort();

const skipFor = (entries: WalkEntry[], relPath: string) => {
  const entry = entries.find((e) => e.relPath === relPath);
  assert.ok(entry, `no entry for ${relPath}`);
  assert.equal(entry.kind, 'skip', `${relPath} should be a skip`);
  return entry as Extract<WalkEntry, { kind: 'skip' }>;
};

test('yields every directory before its contents, with relative /-separated paths and file sizes', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'a/b/c.txt': 'ccc', 'a/d.txt': 'dd', 'e.txt': 'e', 'a/empty/': '' });
  const entries = await collect({ root });

  assert.deepEqual(rels(entries, 'dir'), ['a', 'a/b', 'a/empty']);
  assert.deepEqual(rels(entries, 'file'), ['a/b/c.txt', 'a/d.txt', 'e.txt']);
  assert.equal(entries.length, 6, 'the root itself is never yielded');
  for (const [index, entry] of entries.entries()) {
    assert.equal(entry.absPath, path.join(root, ...entry.relPath.split('/')));
    const parent = path.posix.dirname(entry.relPath);
    if (parent !== '.') assert.ok(entries.findIndex((e) => e.relPath === parent) < index, `${parent} comes before ${entry.relPath}`);
  }
  const b = entries.find((e) => e.relPath === 'a/b');
  assert.deepEqual(b, { kind: 'dir', absPath: path.join(root, 'a', 'b'), relPath: 'a/b', depth: 2 });
  const c = entries.find((e) => e.relPath === 'a/b/c.txt');
  const stats = fs.lstatSync(path.join(root, 'a/b/c.txt'));
  assert.deepEqual(c, {
    kind: 'file',
    absPath: path.join(root, 'a/b/c.txt'),
    relPath: 'a/b/c.txt',
    size: 3,
    mtimeMs: stats.mtimeMs,
    dev: stats.dev,
    ino: stats.ino,
  });
});

test('yields only files that match an include glob, yet still descends every directory', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'a/x.jpg': '', 'a/y.txt': '', 'z.jpg': '', 'b/deep/w.JPG': '', 'b/deep/v.jpg': '' });
  const entries = await collect({ root, include: ['**/*.jpg'] });

  assert.deepEqual(rels(entries, 'file'), ['a/x.jpg', 'b/deep/v.jpg', 'z.jpg']);
  assert.deepEqual(rels(entries, 'dir'), ['a', 'b', 'b/deep']);
  assert.deepEqual(rels(entries, 'skip'), [], 'files left out by include are filtered, not reported');
});

test('drops excluded files and neither yields nor descends excluded directories', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'keep.txt': '', 'debug.log': '', 'a/trace.log': '', 'a/keep.txt': '', 'cache/inner/x.txt': '', 'a/cache/y.txt': '' });
  const entries = await collect({ root, exclude: ['**/*.log', '**/cache'] });

  assert.deepEqual(
    entries.map((e) => `${e.kind}:${e.relPath}`).sort(),
    ['dir:a', 'file:a/keep.txt', 'file:keep.txt'],
  );
});

test('reports hidden files and directories as hidden skips and does not descend hidden directories', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { '.env': 'secret', '.git/config': '', 'a/.cache/blob': '', 'a/visible.txt': '' });
  const entries = await collect({ root });

  assert.deepEqual(rels(entries, 'skip'), ['.env', '.git', 'a/.cache']);
  for (const rel of ['.env', '.git', 'a/.cache']) assert.equal(skipFor(entries, rel).code, 'hidden');
  assert.equal(skipFor(entries, '.git').isDir, true);
  assert.equal(skipFor(entries, '.env').isDir, false);
  assert.match(skipFor(entries, '.git').reason, /hidden directory/);
  assert.deepEqual(rels(entries, 'file'), ['a/visible.txt']);
});

test('walks hidden files and directories when hidden is true', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { '.env': 'secret', '.git/config': '', 'a/visible.txt': '' });
  const entries = await collect({ root, hidden: true });

  assert.deepEqual(rels(entries, 'file'), ['.env', '.git/config', 'a/visible.txt']);
  assert.deepEqual(rels(entries, 'dir'), ['.git', 'a']);
  assert.deepEqual(rels(entries, 'skip'), []);
});

test('reports a symlink as a symlink skip and does not follow it by default', async (t) => {
  const root = await tempRoot(t);
  const outside = await tempRoot(t);
  makeTree(outside, { 'secret.txt': 'outside the root' });
  makeTree(root, { 'real.txt': '' });
  fs.symlinkSync(outside, path.join(root, 'to-outside'));
  fs.symlinkSync('real.txt', path.join(root, 'to-file'));
  const entries = await collect({ root });

  assert.deepEqual(rels(entries, 'file'), ['real.txt']);
  assert.deepEqual(rels(entries, 'dir'), []);
  for (const rel of ['to-outside', 'to-file']) {
    const skip = skipFor(entries, rel);
    assert.equal(skip.code, 'symlink');
    assert.equal(skip.isDir, false);
  }
  assert.match(skipFor(entries, 'to-file').reason, /symbolic link to 'real\.txt' not followed/);
});

test('follows symlinks to a directory and to a file when followSymlinks is true', async (t) => {
  const root = await tempRoot(t);
  const outside = await tempRoot(t);
  makeTree(outside, { 'photos/a.jpg': 'jpeg' });
  makeTree(root, { 'real.txt': 'real' });
  fs.symlinkSync(outside, path.join(root, 'linked'));
  fs.symlinkSync('real.txt', path.join(root, 'alias.txt'));
  const entries = await collect({ root, followSymlinks: true });

  assert.deepEqual(rels(entries, 'dir'), ['linked', 'linked/photos']);
  assert.deepEqual(rels(entries, 'file'), ['alias.txt', 'linked/photos/a.jpg', 'real.txt']);
  const alias = entries.find((e) => e.relPath === 'alias.txt');
  assert.equal(alias?.kind === 'file' && alias.size, 4, 'a followed link reports its target size');
  assert.equal(alias?.absPath, path.join(root, 'alias.txt'), 'paths stay under the link, not the target');
});

test('reports a link back to an ancestor as symlink-loop and finishes', { timeout: 10_000 }, async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'a/b/file.txt': '' });
  fs.symlinkSync('../..', path.join(root, 'a', 'b', 'to-root'));
  fs.symlinkSync('..', path.join(root, 'a', 'b', 'to-a'));
  const entries = await collect({ root, followSymlinks: true });

  assert.equal(skipFor(entries, 'a/b/to-root').code, 'symlink-loop');
  assert.match(skipFor(entries, 'a/b/to-root').reason, /the import root/);
  assert.equal(skipFor(entries, 'a/b/to-a').code, 'symlink-loop');
  assert.match(skipFor(entries, 'a/b/to-a').reason, /'a'/);
  assert.deepEqual(rels(entries, 'file'), ['a/b/file.txt']);
});

test('yields a directory reached through two links only once', async (t) => {
  const root = await tempRoot(t);
  const outside = await tempRoot(t);
  makeTree(outside, { 'x.txt': '' });
  fs.symlinkSync(outside, path.join(root, 'one'));
  fs.symlinkSync(outside, path.join(root, 'two'));
  const entries = await collect({ root, followSymlinks: true });

  const files = rels(entries, 'file');
  assert.equal(files.length, 1);
  const walkedVia = files[0]!.split('/')[0]!;
  const other = walkedVia === 'one' ? 'two' : 'one';
  assert.equal(skipFor(entries, other).code, 'symlink-duplicate');
  assert.match(skipFor(entries, other).reason, new RegExp(`'${walkedVia}'`));
});

// Opening a FIFO for reading blocks until a writer appears, and none ever does here: if the walk
// opened it, the walk would never end and the timeout would fail the test.
test('reports a FIFO as a fifo skip without opening it', { timeout: 10_000 }, async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'before.txt': '', 'z-after.txt': '' });
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  const entries = await collect({ root });

  const skip = skipFor(entries, 'pipe');
  assert.equal(skip.code, 'fifo');
  assert.equal(skip.isDir, false);
  assert.deepEqual(rels(entries, 'file'), ['before.txt', 'z-after.txt']);
});

test('reports a unix socket as a socket skip', { timeout: 10_000 }, async (t) => {
  const root = await tempRoot(t);
  const server = net.createServer();
  server.listen(path.join(root, 'sock'));
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const entries = await collect({ root });

  assert.equal(skipFor(entries, 'sock').code, 'socket');
  assert.equal(entries.length, 1);
});

test('reports a name that is not valid UTF-8 as name-not-utf8 and yields its siblings', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'a.txt': '', 'b.txt': '' });
  fs.writeFileSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from([0x66, 0xff, 0x6f])]), 'x');
  const entries = await collect({ root });

  assert.deepEqual(rels(entries, 'file'), ['a.txt', 'b.txt']);
  const skips = entries.filter((e) => e.kind === 'skip');
  assert.equal(skips.length, 1);
  const skip = skips[0] as Extract<WalkEntry, { kind: 'skip' }>;
  assert.equal(skip.code, 'name-not-utf8');
  assert.equal(skip.relPath, 'f\uFFFDo', 'the lossy form, for reporting only');
  assert.ok(skip.reason.includes('f\\xFFo'), skip.reason);
});

// The tests run as root, which reads a mode-000 directory regardless; the walk is therefore run in
// a child process under the unprivileged 'nobody' account, where the permission check applies.
test('reports an unreadable directory as an unreadable skip and walks its siblings', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'locked/inside.txt': '', 'open/visible.txt': '' });
  fs.chmodSync(root, 0o755);
  fs.chmodSync(path.join(root, 'open'), 0o755);
  fs.chmodSync(path.join(root, 'open', 'visible.txt'), 0o644);
  fs.chmodSync(path.join(root, 'locked'), 0o000);

  const walkUrl = new URL('../../src/walk/walk.js', import.meta.url).href;
  const script = `
    const { walk } = await import(${JSON.stringify(walkUrl)});
    const entries = [];
    for await (const entry of walk({ root: ${JSON.stringify(root)} })) entries.push(entry);
    console.log(JSON.stringify({ uid: process.getuid(), entries }));
  `;
  const child = spawnSync(
    'setpriv',
    ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--input-type=module', '-e', script],
    { encoding: 'utf8', cwd: os.tmpdir() },
  );
  assert.equal(child.status, 0, `child failed: ${child.error ?? child.stderr}`);
  const { uid, entries } = JSON.parse(child.stdout) as { uid: number; entries: WalkEntry[] };

  assert.notEqual(uid, 0, 'the check only means something without root privileges');
  const skip = skipFor(entries, 'locked');
  assert.equal(skip.code, 'unreadable');
  assert.equal(skip.isDir, true);
  assert.match(skip.reason, /permission denied \(EACCES\)/);
  assert.deepEqual(rels(entries, 'dir'), ['open'], 'an unreadable directory is a skip, not also a dir');
  assert.deepEqual(rels(entries, 'file'), ['open/visible.txt']);
});

test('walks a directory 200 levels deep', async (t) => {
  const root = await tempRoot(t);
  const levels = Array.from({ length: 200 }, () => 'd');
  makeTree(root, { [`${levels.join('/')}/leaf.txt`]: 'leaf' });
  const entries = await collect({ root });

  const dirs = entries.filter((e) => e.kind === 'dir');
  assert.equal(dirs.length, 200);
  assert.deepEqual(dirs.at(-1), { kind: 'dir', absPath: path.join(root, ...levels), relPath: levels.join('/'), depth: 200 });
  assert.deepEqual(rels(entries, 'file'), [`${levels.join('/')}/leaf.txt`]);
});

test('closes every directory handle when the consumer stops early', async (t) => {
  const root = await tempRoot(t);
  const levels = Array.from({ length: 50 }, () => 'd');
  makeTree(root, { [`${levels.join('/')}/leaf.txt`]: '', [`${levels.join('/')}/leaf2.txt`]: '' });
  const openFds = () => fs.readdirSync('/proc/self/fd').length;
  const before = openFds();

  let deepest = 0;
  for await (const entry of walk({ root })) {
    deepest = Math.max(deepest, openFds() - before);
    if (entry.kind === 'file') break;
  }
  assert.ok(deepest >= 50, `one handle per level was open at the bottom (saw ${deepest})`);
  assert.equal(openFds(), before);
});

test('walks a directory of 100,000 files without holding them in memory', { timeout: 300_000 }, async (t) => {
  const root = await tempRoot(t);
  const big = path.join(root, 'big');
  fs.mkdirSync(big);
  const count = 100_000;
  for (let i = 0; i < count; i++) fs.closeSync(fs.openSync(path.join(big, `file-${String(i).padStart(6, '0')}.dat`), 'w'));

  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heapAfterGc = () => {
    gc();
    return process.memoryUsage().heapUsed;
  };

  // The yardstick: the heap an eager walker would need just for the names of this one directory.
  const baseline = heapAfterGc();
  let listing: string[] | undefined = fs.readdirSync(big);
  const listingCost = heapAfterGc() - baseline;
  assert.equal(listing.length, count);
  listing = undefined;

  const start = heapAfterGc();
  let peak = 0;
  let files = 0;
  for await (const entry of walk({ root })) {
    if (entry.kind !== 'file') continue;
    files += 1;
    if (files % 10_000 === 0) peak = Math.max(peak, heapAfterGc() - start);
  }
  t.diagnostic(`names array: ${listingCost} bytes; walk heap growth peak: ${peak} bytes`);
  assert.equal(files, count);
  assert.ok(listingCost > 1_000_000, `the yardstick is meaningful (${listingCost} bytes)`);
  // An eager walker needs at least the whole listing; half of it leaves room for the test
  // runner's own bookkeeping, which made a quarter flaky on a loaded machine.
  assert.ok(peak < listingCost / 2, `heap grew by ${peak} bytes; holding the names alone takes ${listingCost}`);
});

/** The pre-order the walk promises: each directory's names in the order the file system lists them, each directory followed by its contents. */
function listingPreOrder(root: string, rel = ''): string[] {
  const out: string[] = [];
  const dir = fs.opendirSync(rel === '' ? root : path.join(root, rel));
  try {
    for (let dirent = dir.readSync(); dirent !== null; dirent = dir.readSync()) {
      const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      out.push(`${dirent.isDirectory() ? 'dir' : 'file'}:${childRel}`);
      if (dirent.isDirectory()) out.push(...listingPreOrder(root, childRel));
    }
  } finally {
    dir.closeSync();
  }
  return out;
}

// The walk examines many entries at once (look-ahead), but must still yield them one by one in
// listing order. fs.readdirSync sorts names, so the listing order is taken from a Dir instead.
test('yields a directory of 10,000 files once each, in listing order, with subdirectories in place', { timeout: 120_000 }, async (t) => {
  const root = await tempRoot(t);
  const many = path.join(root, 'many');
  fs.mkdirSync(many);
  const count = 10_000;
  for (let i = 0; i < count; i++) fs.closeSync(fs.openSync(path.join(many, `file-${String(i).padStart(5, '0')}.dat`), 'w'));
  fs.writeFileSync(path.join(many, 'sized.bin'), 'twelve bytes');
  makeTree(root, { 'many/sub-a/1.txt': '1', 'many/sub-a/2.txt': '2', 'many/sub-b/deeper/3.txt': '3', 'many/sub-c/': '', 'top.txt': '' });
  const expected = listingPreOrder(root);

  const first = await collect({ root });
  const order = first.map((e) => `${e.kind}:${e.relPath}`);
  assert.equal(order.length, count + 10);
  assert.equal(new Set(order).size, order.length, 'no entry is yielded twice');
  assert.deepEqual(order, expected);

  const files = first.filter((e) => e.kind === 'file' && e.relPath.startsWith('many/file-'));
  assert.equal(files.length, count);
  const sized = first.find((e) => e.relPath === 'many/sized.bin');
  assert.equal(sized?.kind === 'file' && sized.size, 12, 'each file carries its own stats, not a neighbour\'s');
  for (const entry of first.filter((e) => e.kind === 'file').slice(0, 50)) {
    const stats = fs.lstatSync(entry.absPath);
    assert.deepEqual(entry.kind === 'file' && [entry.size, entry.ino], [stats.size, stats.ino], entry.relPath);
  }

  const second = await collect({ root });
  assert.deepEqual(second.map((e) => `${e.kind}:${e.relPath}`), order, 'a second walk of the same tree yields the same order');
});

test('reports files larger than maxSize as too-large', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'small.bin': '12345', 'big.bin': '123456' });
  const entries = await collect({ root, maxSize: 5 });

  assert.deepEqual(rels(entries, 'file'), ['small.bin']);
  const skip = skipFor(entries, 'big.bin');
  assert.equal(skip.code, 'too-large');
  assert.match(skip.reason, /6 bytes, more than the maximum of 5 bytes/);
});

test('yields names with spaces, %, #, emoji, combining characters and a byte-order mark intact', async (t) => {
  const root = await tempRoot(t);
  const names = ['with space.txt', '100%.txt', '%20 encoded', '#hash.txt', 'emoji 😀.txt', 'cafe\u0301.txt', 'caf\u00e9.txt', '\uFEFFbom.txt'];
  const dirName = 'dir #1 % ✓';
  makeTree(root, Object.fromEntries([...names, ...names.map((n) => `${dirName}/${n}`)].map((n) => [n, n])));
  const entries = await collect({ root });

  const expected = [...names, ...names.map((n) => `${dirName}/${n}`)].sort();
  assert.deepEqual(rels(entries, 'file'), expected);
  assert.deepEqual(rels(entries, 'dir'), [dirName]);
  for (const entry of entries) {
    if (entry.kind === 'file') assert.equal(fs.readFileSync(entry.absPath, 'utf8'), entry.relPath, 'absPath opens the same file');
  }
});

test('a hidden skip and a symlink skip name the flag that would include them', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { '.env': '', 'real.txt': '' });
  fs.symlinkSync('real.txt', path.join(root, 'to-file'));
  const entries = await collect({ root });

  assert.match(skipFor(entries, '.env').reason, /--hidden/);
  assert.match(skipFor(entries, 'to-file').reason, /--follow-symlinks/);
});

test('a followed link that points to nothing is reported as broken-symlink with its target', async (t) => {
  const root = await tempRoot(t);
  fs.symlinkSync('missing.txt', path.join(root, 'dangling'));
  const entries = await collect({ root, followSymlinks: true });

  const skip = skipFor(entries, 'dangling');
  assert.equal(skip.code, 'broken-symlink');
  assert.equal(skip.isDir, false);
  assert.equal(skip.reason, "symbolic link to 'missing.txt' points to nothing (ENOENT)");
});

test('a followed link to a FIFO is reported as a fifo skip without opening it', { timeout: 10_000 }, async (t) => {
  const root = await tempRoot(t);
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  fs.symlinkSync('pipe', path.join(root, 'to-pipe'));
  const entries = await collect({ root, followSymlinks: true });

  assert.equal(skipFor(entries, 'to-pipe').code, 'fifo');
});

test('a hidden link is reported as hidden, whether links are followed or not and whether it resolves or not', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'real.txt': '' });
  fs.symlinkSync('real.txt', path.join(root, '.alias'));
  fs.symlinkSync('missing.txt', path.join(root, '.dangling'));
  for (const followSymlinks of [false, true]) {
    const entries = await collect({ root, followSymlinks });
    assert.equal(skipFor(entries, '.alias').code, 'hidden', `followSymlinks: ${followSymlinks}`);
    assert.equal(skipFor(entries, '.dangling').code, 'hidden', `followSymlinks: ${followSymlinks}`);
  }
});

test('a name that is not valid UTF-8 is reported as name-not-utf8 even when it starts with a dot, and dropped when excluded', async (t) => {
  const root = await tempRoot(t);
  fs.writeFileSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from([0x2e, 0xff])]), 'x');
  fs.mkdirSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from([0x64, 0xfe])]));

  const entries = await collect({ root, followSymlinks: true });
  assert.deepEqual(entries.map((e) => [e.relPath, e.kind === 'skip' && e.code]).sort(), [['.\uFFFD', 'name-not-utf8'], ['d\uFFFD', 'name-not-utf8']]);
  assert.equal(skipFor(entries, 'd\uFFFD').isDir, true);

  assert.deepEqual(await collect({ root, exclude: ['d*/', '.*'] }), []);
});

test('throws ENOENT when the root does not exist', async (t) => {
  const root = await tempRoot(t);
  await assert.rejects(collect({ root: path.join(root, 'missing') }), { code: 'ENOENT' });
});

test('throws ENOTDIR when the root is a file', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'file.txt': '' });
  await assert.rejects(collect({ root: path.join(root, 'file.txt') }), { code: 'ENOTDIR' });
});

test('stops with the abort reason as soon as the signal is aborted', async (t) => {
  const root = await tempRoot(t);
  makeTree(root, { 'a/1.txt': '', 'a/2.txt': '', 'b/3.txt': '' });
  const controller = new AbortController();
  let seen = 0;
  await assert.rejects(async () => {
    for await (const entry of walk({ root, signal: controller.signal })) {
      assert.ok(entry);
      seen += 1;
      controller.abort();
    }
  }, { name: 'AbortError' });
  assert.equal(seen, 1);
});
