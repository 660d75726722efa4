import type { Values } from '../options/option.js';
import type { PrepareContext, PreparedDrive } from './backend.js';
import { LOCAL_BACKEND } from './local/backend.js';
import { ONEDRIVE_BACKEND } from './onedrive/backend.js';

/** Every kind of drive `--target` can name, in the order --help lists them. */
export const BACKENDS = { local: LOCAL_BACKEND, onedrive: ONEDRIVE_BACKEND } as const;

export type DriveKind = keyof typeof BACKENDS;

export const DRIVE_KINDS = Object.keys(BACKENDS) as DriveKind[];

/** A drive's own options, as parsed from its backend's table, tagged with its kind. */
export type DriveOptions = { [K in DriveKind]: { kind: K } & Values<(typeof BACKENDS)[K]['options']> }[DriveKind];

/** The run's drive, prepared by its backend from its options. */
export function prepareDrive(options: DriveOptions, run: PrepareContext): Promise<PreparedDrive> {
  switch (options.kind) {
    case 'local':
      return LOCAL_BACKEND.prepare(options, run);
    case 'onedrive':
      return ONEDRIVE_BACKEND.prepare(options, run);
  }
}
