import type { BenchCase } from './case.js';
import { smallFilesSweep } from './small-files-sweep.js';

/**
 * Case 2: case 1's files and sweep with every Graph request delayed by --latency. Its emulator
 * floor is N ÷ latency by construction, so it is measured in round 0 only, and the hash and COPY
 * floors are case 1's.
 */
export const latencyCase: BenchCase = {
  id: 2,
  title: 'the same files, every Graph request delayed --latency ms',
  needs: { onedriveOnly: 'latency per Graph request', latency: true, sets: ['small'] },
  plan: (ctx, run) => [smallFilesSweep(ctx, 2, run, 'target, once')],
};
