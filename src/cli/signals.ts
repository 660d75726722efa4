import { EXIT_CODES } from '../errors/exit-codes.js';
import type { StopControl } from '../run/stop-control.js';

/** After a second signal: if the clean-up itself hangs this long, leave anyway. */
const FORCED_EXIT_MS = 10_000;

/**
 * SIGINT and SIGTERM, passed on to the run's stop control: the first drains, the second forces.
 * The process-wide parts (the listeners, the last-resort exit) live here, at the command line;
 * the run only knows its stop control. Returns the function that removes the listeners.
 */
export function forwardSignals(stop: StopControl): () => void {
  let received = 0;
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = () => {
      stop.request(signal);
      if (++received === 2) setTimeout(() => process.exit(EXIT_CODES[signal === 'SIGTERM' ? 'sigterm' : 'sigint'].code), FORCED_EXIT_MS).unref();
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  };
}
