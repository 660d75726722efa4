import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** A temporary directory removed when the test file ends. */
export async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `vmb-${label}-`));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TreeSpec {
  corps: number[];
  /** Folder paths below each corp folder ('' = the corp folder itself). */
  folders: string[];
  filesPerFolder: number;
  /** Size of file i; default a mix of 0 bytes, small and a few KiB. */
  size?: (i: number) => number;
}

/** Writes a tree of real files with random content; returns the relative paths of the files. */
export async function makeTree(root: string, spec: TreeSpec): Promise<string[]> {
  const files: string[] = [];
  const size = spec.size ?? ((i: number) => (i % 17 === 0 ? 0 : (i * 7919) % 9000));
  let i = 0;
  for (const corp of spec.corps) {
    for (const folder of spec.folders) {
      const dir = path.join(root, String(corp), folder);
      await mkdir(dir, { recursive: true });
      for (let f = 0; f < spec.filesPerFolder; f++, i++) {
        const rel = path.posix.join(String(corp), folder, `file-${f}.bin`);
        await writeFile(path.join(root, rel), randomBytes(size(i)));
        files.push(rel);
      }
    }
  }
  return files;
}

export const read = (p: string) => readFile(p);
