import { closest, distance } from 'fastest-levenshtein';
import { envName, type OptionTable } from './option.js';

/** How far a name may be from a known one to be taken for a typo of it (VMB_THREAD → VMB_THREADS). */
const TYPO_DISTANCE = 2;

export interface UnknownVariable {
  name: string;
  /** The known variable it is most likely a typo of, if any is close. */
  nearest?: string;
}

/**
 * `VMB_*` variables no option of any command reads. A cron environment may hold unrelated ones
 * (VMB_HOME): each is worth one warning that names it, never a refusal to run.
 */
export function unknownVariables(env: NodeJS.ProcessEnv, tables: readonly OptionTable[]): UnknownVariable[] {
  const known = [...new Set(tables.flatMap((t) => t.map((o) => envName(o.flag))))];
  return Object.keys(env)
    .filter((name) => name.startsWith('VMB_') && !known.includes(name))
    .sort()
    .map((name) => {
      const nearest = closest(name, known);
      return distance(name, nearest) <= TYPO_DISTANCE ? { name, nearest } : { name };
    });
}
