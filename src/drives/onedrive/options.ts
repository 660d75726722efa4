import { option } from '../../options/option.js';
import { checked, choice, duration, httpUrl, size, text, wholeNumber } from '../../options/readers.js';
import { VERSION } from '../../version.js';
import { chunkSizeProblem } from './limits.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/v1.0';
export const DEFAULT_REMOTE_ROOT = '/vmb';
/** Microsoft asks apps to "decorate" their traffic this way (docs/graph-facts.md §8). */
export const DEFAULT_USER_AGENT = `NONISV|vmb|vmb-import/${VERSION}`;

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
    help: 'OneDrive: retries per request on 5xx, resets and timeouts (throttled requests wait their turn and never count)',
    group: 'Target',
  }),
  option({
    key: 'maxRate',
    flag: 'max-rate',
    reader: wholeNumber(0, 100_000_000, 'RU'),
    default: '0',
    defaultText: 'learned from the answers',
    help: "OneDrive: at most this many resource units per minute (an upload or folder create costs 2, a GET 1): the app's tier, 1,250–6,250 a minute; 0 learns it",
    group: 'Target',
    recorded: true,
  }),
  option({
    key: 'bwlimit',
    flag: 'bwlimit',
    reader: size('8MiB'),
    default: '0',
    defaultText: 'none',
    help: 'OneDrive: at most this many bytes a second for the whole run (all threads)',
    group: 'Target',
    recorded: true,
  }),
  option({
    key: 'throttleTimeoutMs',
    flag: 'throttle-timeout',
    reader: duration('10m', { positive: true }),
    default: '10m',
    help: 'OneDrive: when throttling has let nothing through for this long, the files not done are deferred to the next run and the run ends partial',
    group: 'Target',
  }),
  option({
    key: 'blockedAfterMs',
    flag: 'blocked-after',
    reader: duration('2m', { positive: true }),
    default: '2m',
    help: 'OneDrive: 503s with no success between for this long mean the tenant has blocked the app: the run stops, failed (graph-blocked)',
    group: 'Target',
  }),
  option({
    key: 'userAgent',
    flag: 'user-agent',
    reader: text('UA'),
    default: DEFAULT_USER_AGENT,
    defaultText: '`NONISV|vmb|vmb-import/<version>`',
    help: 'OneDrive: the User-Agent of every request; an ISV app should send `ISV|Company|App/version`',
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
