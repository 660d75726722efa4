import path from 'node:path';
import type { GridSpec } from './datasets.js';

const MiB = 1024 * 1024;

/** Cases 1 and 2: 20,000 files of 4 KiB (5 corps × 20 folders × 200); quick: 2,000. */
export function smallFiles(root: string, quick: boolean): GridSpec {
  return { root, corps: [1001, 1002, 1003, 1004, 1005], folders: 20, subfolders: 0, filesPerDir: quick ? 20 : 200, size: 4096 };
}

/** Case 3: 40 files of 64 MiB; quick: 4. */
export function largeFiles(root: string, quick: boolean): GridSpec {
  return { root, corps: [7], folders: quick ? 1 : 2, subfolders: 0, filesPerDir: quick ? 4 : 20, size: 64 * MiB };
}

/** Case 5: one file of 1 GiB, interrupted half-way and uploaded again; quick: 256 MiB. */
function resumeFile(root: string, quick: boolean): GridSpec {
  return { root, corps: [9], folders: 1, subfolders: 0, filesPerDir: 1, size: (quick ? 256 : 1024) * MiB };
}

/** Case 4: 1,000,000 empty files (5 × 20 × 10 folders × 1,000) with one mtime, so the ledger can be seeded without a stat; quick: 50,000. */
function millionEmpty(root: string, quick: boolean): GridSpec {
  return { root, corps: [1, 2, 3, 4, 5], folders: 20, subfolders: 10, filesPerDir: quick ? 50 : 1000, size: 0, fixedMtimeMs: 1_700_000_000_000 };
}

/** The data sets of the benchmark, by name; generated (in this order) only when a case that runs needs them. */
export interface BenchSets {
  small: GridSpec;
  large: GridSpec;
  /** Case 4's smaller no-op set (20,000 files; quick: 2,000), for the RSS comparison with `million`. */
  noop20k: GridSpec;
  million: GridSpec;
  resume: GridSpec;
}

export type SetName = keyof BenchSets;

export function benchSets(work: string, quick: boolean): Readonly<BenchSets> {
  const million = millionEmpty(path.join(work, 'million'), quick);
  return {
    small: smallFiles(path.join(work, 'small'), quick),
    large: largeFiles(path.join(work, 'large'), quick),
    noop20k: { ...million, root: path.join(work, 'noop-small'), filesPerDir: quick ? 2 : 20 },
    million,
    resume: resumeFile(path.join(work, 'resume'), quick),
  };
}
