import type { Drive } from './drive.js';
import type { Faults } from './faults.js';
import type { UploadSessions } from './upload-sessions.js';

/** The emulator state and settings the endpoint handlers work on. */
export interface EmulatorContext {
  drive: Drive;
  sessions: UploadSessions;
  faults: Faults;
  simpleUploadMax: number;
  storeContent: boolean;
  autoCreateParents: boolean;
}
