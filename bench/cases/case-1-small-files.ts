import type { BenchCase } from './case.js';
import { smallFilesSweep } from './small-files-sweep.js';

/** Case 1: 20,000 files of 4 KiB, emulator latency 0, across the thread sweep. */
export const smallFilesCase: BenchCase = {
  id: 1,
  title: '20,000 files of 4 KiB, thread sweep',
  needs: { latency: false, sets: ['small'] },
  plan: (ctx, run) => [smallFilesSweep(ctx, 1, run, 'all')],
};
