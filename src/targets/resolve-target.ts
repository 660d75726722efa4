import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fatal } from '../errors.js';
import type { DriveKey } from '../db/statements.js';
import { localNamer } from './local/local-target.js';
import type { RemoteNamer, TargetConfig } from './target.js';

export interface LocalTargetSpec {
  kind: 'local';
  root: string;
}

export type TargetSpec = LocalTargetSpec;

export interface ResolvedTarget {
  config: TargetConfig;
  key: DriveKey;
  namer: RemoteNamer;
  /** For messages. */
  describe: string;
}

/** Check a target's configuration in the main thread, so a mistake is one line and exit code 2. */
export async function resolveTarget(spec: TargetSpec): Promise<ResolvedTarget> {
  const root = path.resolve(spec.root);
  try {
    await mkdir(root, { recursive: true });
    await access(root, constants.W_OK);
  } catch (err) {
    throw fatal('config-local-root', `--local-root ${root} is not a writable directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pick another with --local-root`);
  }
  return {
    config: { kind: 'local', root },
    key: { driveId: `local:${root}`, remoteRoot: '/' },
    namer: localNamer,
    describe: `local folder ${root}`,
  };
}
