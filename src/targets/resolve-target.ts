import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fatal } from '../errors.js';
import type { DriveKey } from '../db/statements.js';
import { localDriveKey, localNamer } from './local/local-target.js';
import { checkRemotePathLength, createPacerBuffer, describeMissingCredentials, oneDriveNamer, OneDriveTarget } from './onedrive/index.js';
import type { OneDriveTargetConfig, RemoteNamer, TargetConfig } from './target.js';

export interface LocalTargetSpec {
  kind: 'local';
  root: string;
}

/** What the options give; the rest of `OneDriveTargetConfig` is made when the target is resolved. */
export type OneDriveTargetSpec = Omit<OneDriveTargetConfig, 'driveId' | 'pacerBuffer' | 'staticToken'> & {
  /** Missing is a configuration error, reported when the target is resolved. */
  driveId?: string;
  namePolicy: 'reject' | 'encode';
};

export type TargetSpec = LocalTargetSpec | OneDriveTargetSpec;

export interface ResolvedTarget {
  config: TargetConfig;
  key: DriveKey;
  namer: RemoteNamer;
  /** Why a whole remote path (below the remote root) cannot be used, or null. */
  checkPath: (remotePath: string) => string | null;
  /** For messages. */
  describe: string;
}

/**
 * Check a target's configuration in the main thread, so a mistake is one line and exit code 2
 * before any file is touched. A real run also checks that the drive answers (`probe`).
 */
export async function resolveTarget(spec: TargetSpec, env: NodeJS.ProcessEnv, probe: boolean): Promise<ResolvedTarget> {
  return spec.kind === 'local' ? resolveLocal(spec) : resolveOneDrive(spec, env, probe);
}

async function resolveLocal(spec: LocalTargetSpec): Promise<ResolvedTarget> {
  const root = path.resolve(spec.root);
  try {
    await mkdir(root, { recursive: true });
    await access(root, constants.W_OK);
  } catch (err) {
    throw fatal('config-local-root', `--local-root ${root} is not a writable directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pick another with --local-root`);
  }
  return { config: { kind: 'local', root }, key: localDriveKey(root), namer: localNamer, checkPath: () => null, describe: `local folder ${root}` };
}

async function resolveOneDrive(spec: OneDriveTargetSpec, env: NodeJS.ProcessEnv, probe: boolean): Promise<ResolvedTarget> {
  if (!spec.driveId) throw fatal('config-drive-id', '--target onedrive needs --drive-id (or VMB_DRIVE_ID): the id of the OneDrive/SharePoint drive to upload to');
  const missing = describeMissingCredentials(env);
  if (missing) throw fatal('config-credentials', `--target onedrive: ${missing}`);
  const { namePolicy, ...given } = spec;
  const config: OneDriveTargetConfig = {
    ...given,
    driveId: spec.driveId,
    graphUrl: spec.graphUrl.replace(/\/+$/, ''),
    pacerBuffer: createPacerBuffer(),
    staticToken: env.VMB_GRAPH_TOKEN || undefined,
  };
  // Built in the main thread only to check the configuration; closed again at once. Each worker
  // thread builds its own.
  const check = new OneDriveTarget(config, { env });
  try {
    if (probe) await check.checkDrive();
  } finally {
    await check.close();
  }
  const rootPrefix = check.remoteRoot.replace(/\/$/, '');
  return {
    config,
    key: { driveId: check.driveId, remoteRoot: check.remoteRoot },
    namer: oneDriveNamer(namePolicy),
    checkPath: (remotePath) => checkRemotePathLength(`${rootPrefix}/${remotePath}`),
    describe: `OneDrive drive ${spec.driveId} under ${check.remoteRoot}`,
  };
}
