import { LocalTarget } from './local/local-target.js';
import { OneDriveTarget } from './onedrive/index.js';
import type { Target, TargetConfig } from './target.js';

/** Build this thread's own target from plain config. */
export function createTarget(config: TargetConfig): Target {
  switch (config.kind) {
    case 'local':
      return new LocalTarget(config);
    case 'onedrive':
      return new OneDriveTarget(config);
  }
}
