export { OneDriveTarget, type OneDriveTargetOptions } from './onedrive-target.js';
export { oneDriveNamer, checkRemotePathLength } from './names.js';
export { createPacerBuffer } from './pacer.js';
export { describeMissingCredentials } from './credentials.js';
