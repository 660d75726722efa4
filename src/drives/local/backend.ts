import { access, constants, mkdir } from 'node:fs/promises';
import { fatal } from '../../errors/vmb-error.js';
import type { DriveBackend } from '../backend.js';
import { localDriveKey, localNamer } from './local-drive.js';
import { LOCAL_OPTIONS } from './options.js';

export const LOCAL_BACKEND: DriveBackend<'local', typeof LOCAL_OPTIONS> = {
  kind: 'local',
  title: 'a folder on this machine',
  options: LOCAL_OPTIONS,
  async prepare({ localRoot }) {
    try {
      await mkdir(localRoot, { recursive: true });
      await access(localRoot, constants.W_OK);
    } catch (err) {
      throw fatal('config-local-root', `--local-root ${localRoot} is not a writable directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pick another with --local-root`);
    }
    return { config: { kind: 'local', root: localRoot }, key: localDriveKey(localRoot), namer: localNamer, checkPath: () => null, describe: `local folder ${localRoot}` };
  },
};
