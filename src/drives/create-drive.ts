import type { DriveConfig } from '../types.js';
import type { Drive } from './drive.js';
import { LocalDrive } from './local/local-drive.js';
import { OneDriveDrive } from './onedrive/onedrive-drive.js';

/** Build this thread's own drive from plain config. */
export function createDrive(config: DriveConfig): Drive {
  switch (config.kind) {
    case 'local':
      return new LocalDrive(config);
    case 'onedrive':
      return new OneDriveDrive(config);
  }
}
