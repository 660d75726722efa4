export { OneDriveDrive, type OneDriveDriveOptions } from './onedrive-drive.js';
export { oneDriveNamer, checkRemotePathLength } from './names.js';
export { createGovernorBuffer, Governor } from './governor.js';
