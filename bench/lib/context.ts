import type { BenchSets } from './bench-sets.js';
import type { EmulatorProcess } from './emulator.js';
import type { Options } from './options.js';
import type { BenchServer } from './pg-server.js';
import type { ResultsSink } from './results-sink.js';
import type { Build } from './snapshot.js';

/**
 * Everything a case and the measurements it runs are given by run.ts: nothing in bench/ is kept in
 * module state, so a case sees only this.
 */
export interface BenchContext {
  /** The copy of the build every child process runs (the CLI, the floors, the reference importer). */
  readonly build: Build;
  readonly options: Readonly<Options>;
  /** The benchmark's own directory: data sets, drives of the local target, the CLI's --data-dir. */
  readonly work: string;
  /** The data sets, generated before the first round when a case that runs needs them. */
  readonly sets: Readonly<BenchSets>;
  /** The PostgreSQL every run writes to, a database of its own per run. */
  readonly pg: BenchServer;
  /** A fresh Graph emulator (an empty drive) from the build copy, with this delay per request. */
  startEmulator(latencyMs: number): Promise<EmulatorProcess>;
  /** Where rows, samples and notes go; the report is rendered from it. */
  readonly results: ResultsSink;
  readonly log: (m: string) => void;
  /** A number no earlier call returned, for names of databases and directories. */
  nextId(): number;
  /** Aborted on Ctrl-C / SIGTERM: the child being measured is killed. */
  readonly signal: AbortSignal;
}
