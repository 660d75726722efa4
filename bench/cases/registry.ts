import type { BenchCase } from './case.js';
import { smallFilesCase } from './case-1-small-files.js';
import { latencyCase } from './case-2-latency.js';
import { largeFilesCase } from './case-3-large-files.js';
import { noopRerunCase } from './case-4-noop-rerun.js';
import { resumeCase } from './case-5-resume.js';
import { checkCase } from './case-6-check.js';
import { throttledCase } from './case-7-throttled.js';

/** Every case of the benchmark, in the order they run (whatever order --cases gives). */
export const CASES: readonly BenchCase[] = [smallFilesCase, latencyCase, largeFilesCase, noopRerunCase, resumeCase, checkCase, throttledCase];
