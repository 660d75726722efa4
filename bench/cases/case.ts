import type { SetName } from '../lib/bench-sets.js';
import type { BenchContext } from '../lib/context.js';
import type { TargetKind } from '../lib/results.js';
import type { Unit } from '../lib/schedule.js';

/** What run.ts gives a case for one target. */
export interface CaseRun {
  target: TargetKind;
  /** The emulator's delay per Graph request for this case: --latency when it asks for it, else 0. */
  latencyMs: number;
}

/**
 * A case of the benchmark, as the registry lists it. run.ts validates --cases against the
 * registry, generates the data sets the selected cases need, skips a case for a target it does not
 * apply to (with a note), and runs the units `plan` returns in rounds; every sample goes to
 * `ctx.results`.
 */
export interface BenchCase {
  id: number;
  /** A few words, for the --cases error and the logs. */
  title: string;
  needs: {
    /** When set, the case means something on the onedrive target only; this says why (a note for the local target). */
    onedriveOnly?: string;
    /** Whether the emulator delays every request by --latency for this case. */
    latency: boolean;
    /** The data sets its units read; generated before the first round. */
    sets: readonly SetName[];
  };
  /** The case's units for one target, in the order they run. */
  plan(ctx: BenchContext, run: CaseRun): Unit[];
}
