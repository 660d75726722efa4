import { fatal } from '../../errors/vmb-error.js';
import type { OneDriveConfig } from '../../types.js';
import type { DriveBackend, DriveTraffic } from '../backend.js';
import { describeMissingCredentials } from './credentials.js';
import { checkRemotePathLength, oneDriveNamer } from './names.js';
import { OneDriveDrive } from './onedrive-drive.js';
import { ONEDRIVE_OPTIONS } from './options.js';
import { createGovernorBuffer, Governor } from './governor.js';

/**
 * Upload buffers of the whole run, shared out among the threads (each gets at least one chunk):
 * this, not the number of large files in flight, is what uploads add to memory.
 */
const UPLOAD_BUFFER_BYTES = 64 * 1024 * 1024;

export const ONEDRIVE_BACKEND: DriveBackend<'onedrive', typeof ONEDRIVE_OPTIONS> = {
  kind: 'onedrive',
  title: 'OneDrive for Business / SharePoint through Microsoft Graph',
  options: ONEDRIVE_OPTIONS,
  async prepare(options, run) {
    const { driveId, namePolicy, graphToken, managedIdentity: _readByTheCredential, throttleTimeoutMs, blockedAfterMs, ...settings } = options;
    if (!driveId) throw fatal('config-drive-id', '--target onedrive needs --drive-id (or VMB_DRIVE_ID): the id of the OneDrive/SharePoint drive to upload to');
    const missing = describeMissingCredentials(run.env);
    if (missing) throw fatal('config-credentials', `--target onedrive: ${missing}`);
    const config: OneDriveConfig = {
      kind: 'onedrive',
      ...settings,
      driveId,
      graphUrl: settings.graphUrl.replace(/\/+$/, ''),
      bufferBytes: Math.max(settings.chunkSize, Math.floor(UPLOAD_BUFFER_BYTES / run.threads)),
      governorBuffer: createGovernorBuffer(),
      staticToken: graphToken || undefined,
    };
    // Built in the main thread only to check the configuration; closed again at once. Each worker
    // thread builds its own.
    const check = new OneDriveDrive(config, { env: run.env });
    try {
      if (run.probe) await check.checkDrive();
    } finally {
      await check.close();
    }
    const rootPrefix = check.remoteRoot.replace(/\/$/, '');
    return {
      config,
      key: { driveId: check.driveId, remoteRoot: check.remoteRoot },
      namer: oneDriveNamer(namePolicy),
      checkPath: (remotePath) => checkRemotePathLength(`${rootPrefix}/${remotePath}`),
      describe: `OneDrive drive ${driveId} under ${check.remoteRoot}`,
      traffic: trafficOf(config.governorBuffer, throttleTimeoutMs, blockedAfterMs),
    };
  },
};

function trafficOf(buffer: SharedArrayBuffer, throttleTimeoutMs: number, blockedAfterMs: number): DriveTraffic {
  const governor = Governor.reader(buffer);
  return { read: () => governor.read(), release: () => governor.release(), seed: (perMinute) => governor.seed(perMinute), throttleTimeoutMs, blockedAfterMs };
}
