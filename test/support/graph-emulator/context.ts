import type { Drive } from './drive.js';
import type { DeltaFeed } from './delta.js';
import type { Faults } from './faults.js';
import type { UploadSessions } from './upload-sessions.js';

/** Milliseconds since the epoch; injectable so tests can move time instead of sleeping. */
export type Clock = () => number;

/** The emulator state and settings the endpoint handlers work on. */
export interface EmulatorContext {
  drive: Drive;
  sessions: UploadSessions;
  delta: DeltaFeed;
  faults: Faults;
  simpleUploadMax: number;
  storeContent: boolean;
  autoCreateParents: boolean;
}
