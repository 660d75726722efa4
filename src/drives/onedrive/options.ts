import { option } from '../../options/option.js';
import { checked, choice, duration, httpUrl, size, text, wholeNumber } from '../../options/readers.js';
import { chunkSizeProblem } from './limits.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/v1.0';
export const DEFAULT_REMOTE_ROOT = '/vmb';

/** The OneDrive drive's own options; each says so in its help, since --help lists every drive's. */
export const ONEDRIVE_OPTIONS = [
  option({ key: 'driveId', flag: 'drive-id', reader: text('ID'), help: 'OneDrive: id of the drive to upload to', group: 'Target', recorded: true }),
  option({ key: 'remoteRoot', flag: 'remote-root', reader: text('PATH'), default: DEFAULT_REMOTE_ROOT, help: 'OneDrive: the folder the corp folders go in', group: 'Target', recorded: true }),
  option({
    key: 'graphUrl',
    flag: 'graph-url',
    reader: httpUrl(DEFAULT_GRAPH_URL),
    default: DEFAULT_GRAPH_URL,
    help: 'OneDrive: Graph endpoint; national clouds (`https://graph.microsoft.us/v1.0`, `https://microsoftgraph.chinacloudapi.cn/v1.0`, …) and the emulator use others',
    group: 'Target',
    recorded: true,
  }),
  option({
    key: 'authorityHost',
    flag: 'authority-host',
    reader: httpUrl('https://login.microsoftonline.us'),
    defaultText: 'derived from --graph-url',
    help: 'OneDrive: sign-in host for national clouds',
    group: 'Target',
  }),
  option({
    key: 'chunkSize',
    flag: 'chunk-size',
    reader: checked(size('10MiB'), chunkSizeProblem),
    default: '10MiB',
    help: 'OneDrive: upload-session chunk, a multiple of 320 KiB, below 60 MiB',
    group: 'Target',
  }),
  option({
    key: 'simpleUploadMax',
    flag: 'simple-upload-max',
    reader: size('4MiB'),
    default: '4MiB',
    help: 'OneDrive: files up to this size go in one PUT (0-byte files always do)',
    group: 'Target',
  }),
  option({
    key: 'retries',
    flag: 'retries',
    reader: wholeNumber(0, 100),
    default: '6',
    help: 'OneDrive: retries per request on 429/503 (honouring `Retry-After`), 5xx, resets and timeouts',
    group: 'Target',
  }),
  option({
    key: 'requestTimeoutMs',
    flag: 'request-timeout',
    reader: duration('60s', { positive: true }),
    default: '60s',
    help: 'OneDrive: a request idle this long is cut and retried',
    group: 'Target',
  }),
  option({
    key: 'namePolicy',
    flag: 'name-policy',
    reader: choice(['reject', 'encode']),
    default: 'reject',
    help: 'OneDrive: skip names OneDrive forbids, or map the bad characters to look-alikes (`?` → `？`) as rclone does',
    group: 'Target',
  }),
  // Credentials are never options a command line shows (ps does): these two are read from the
  // environment only, and declared so that VMB_GRAPH_TOKEN and VMB_MANAGED_IDENTITY are known.
  option({ key: 'graphToken', flag: 'graph-token', reader: text('TOKEN'), help: 'OneDrive: a pre-issued bearer token', group: 'Target', hidden: true, environmentOnly: true }),
  option({ key: 'managedIdentity', flag: 'managed-identity', reader: text('1'), help: 'OneDrive: sign in with the Azure host\'s managed identity', group: 'Target', hidden: true, environmentOnly: true }),
] as const;
