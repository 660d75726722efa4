import { fmt } from './results.js';

/**
 * A piece of a case that runs in rounds (a case plans one or more per target). Round 0 measures
 * everything the unit has; later rounds repeat only what the targets are judged on (the unit
 * decides what, from the round number), while the time budget allows.
 */
export interface Unit {
  name: string;
  setup?: () => Promise<void>;
  round: (r: number) => Promise<void>;
  teardown?: () => Promise<void>;
  /** How long a repeat takes (measured in round 0, or the last repeat); the unit updates it. */
  repeatMs: number;
}

/**
 * Round 0 of every unit in turn, then rounds 1 … runs - 1 of every unit in turn, each repeat only
 * if it fits before `deadline` with a minute to spare for cleaning up. Every unit's teardown runs at
 * the end, whatever happened. Returns the repeats skipped for the budget.
 */
export async function runRounds(units: Unit[], o: { runs: number; started: number; deadline: number; log: (m: string) => void }): Promise<string[]> {
  const skipped: string[] = [];
  try {
    for (const u of units) {
      await u.setup?.();
      await u.round(0);
      o.log(`${u.name}: round 1 done, ${fmt.n((Date.now() - o.started) / 60000, 1)} min elapsed`);
    }
    for (let r = 1; r < o.runs; r++) {
      for (const u of units) {
        if (Date.now() + u.repeatMs + 60_000 > o.deadline) {
          skipped.push(`${u.name}, run ${r + 1}`);
          continue;
        }
        await u.round(r);
      }
    }
  } finally {
    for (const u of units) await u.teardown?.().catch((err: unknown) => o.log(`clean-up of ${u.name} failed: ${(err as Error).message}`));
  }
  return skipped;
}
