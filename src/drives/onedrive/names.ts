import type { Code } from '../../types.js';
import type { RemoteNamer } from '../drive.js';

/**
 * OneDrive for Business / SharePoint naming rules (docs/graph-facts.md §4). Lengths count UTF-16 code
 * units, as .NET (SharePoint) and NTFS (the sync client) do, which is never less than the
 * number of characters.
 */

/** Mapped the way rclone's default onedrive `encoding` does, so names look the same as rclone's. */
const FULL_WIDTH: Readonly<Record<string, string>> = {
  '"': '\uFF02',
  '*': '\uFF0A',
  ':': '\uFF1A',
  '<': '\uFF1C',
  '>': '\uFF1E',
  '?': '\uFF1F',
  '/': '\uFF0F',
  '\\': '\uFF3C',
  '|': '\uFF5C',
};
const INVALID_CHARS = /["*:<>?/\\|]/g;
const SPACE_SYMBOL = '\u2420';
const FULL_WIDTH_PERIOD = '\uFF0E';
const FULL_WIDTH_TILDE = '\uFF5E';

/**
 * Whole names only, compared case-insensitively (names are case-insensitive). `CON.txt` is
 * allowed: Microsoft lists the bare names, and rejecting more than the service does would skip
 * files that upload fine, while a name the service does refuse still fails visibly at upload.
 */
const RESERVED_NAMES = new Set([
  '.lock',
  'con',
  'prn',
  'aux',
  'nul',
  ...Array.from({ length: 10 }, (_, i) => `com${i}`),
  ...Array.from({ length: 10 }, (_, i) => `lpt${i}`),
  'desktop.ini',
]);

const MAX_NAME_LENGTH = 255;
const MAX_REMOTE_PATH_LENGTH = 400;

type NameResult = ReturnType<RemoteNamer>;

const reject = (code: Code, reason: string): NameResult => ({ ok: false, code, reason });

function describeChar(ch: string): string {
  return `'${ch}' (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Rules that no mapping can fix: these names are refused under either policy. */
function reservedRule(segment: string): NameResult | null {
  const lower = segment.toLowerCase();
  if (segment.length === 0) return reject('name-empty', 'the name is empty');
  if (RESERVED_NAMES.has(lower)) return reject('name-reserved', `"${segment}" is a name OneDrive reserves`);
  if (segment.startsWith('~$')) {
    return reject('name-reserved-prefix', `"${segment}" starts with '~$', which OneDrive reserves for Office owner files`);
  }
  if (lower.includes('_vti_')) return reject('name-reserved-substring', `"${segment}" contains '_vti_', which SharePoint reserves`);
  return null;
}

function rejectRule(segment: string, isFolder: boolean): NameResult | null {
  const invalid = [...new Set(segment.match(INVALID_CHARS) ?? [])];
  if (invalid.length > 0) {
    return reject('name-invalid-char', `"${segment}" contains ${invalid.map(describeChar).join(', ')}, not allowed in OneDrive names`);
  }
  if (segment.startsWith(' ')) return reject('name-leading-space', `"${segment}" starts with a space`);
  if (segment.endsWith(' ')) return reject('name-trailing-space', `"${segment}" ends with a space`);
  if (segment.endsWith('.')) return reject('name-trailing-period', `"${segment}" ends with a period`);
  if (isFolder && segment.startsWith('~')) {
    return reject('name-folder-leading-tilde', `folder "${segment}" starts with '~', which SharePoint does not allow for folders`);
  }
  return null;
}

function encode(segment: string, isFolder: boolean): string {
  let name = segment.replace(INVALID_CHARS, (ch) => FULL_WIDTH[ch]);
  if (name.startsWith(' ')) name = SPACE_SYMBOL + name.slice(1);
  else if (isFolder && name.startsWith('~')) name = FULL_WIDTH_TILDE + name.slice(1);
  if (name.endsWith(' ')) name = name.slice(0, -1) + SPACE_SYMBOL;
  else if (name.endsWith('.')) name = name.slice(0, -1) + FULL_WIDTH_PERIOD;
  return name;
}

/**
 * `reject`: refuse any name OneDrive would refuse, with a stable code and the offending rule.
 * `encode`: map forbidden characters, edge spaces, a trailing period (and a folder's leading `~`)
 * to look-alikes as rclone does; reserved names are refused under both policies.
 */
export function oneDriveNamer(policy: 'reject' | 'encode'): RemoteNamer {
  return (segment, isFolder) => {
    const reserved = reservedRule(segment);
    if (reserved) return reserved;
    let name = segment;
    if (policy === 'encode') {
      name = encode(segment, isFolder);
    } else {
      const refused = rejectRule(segment, isFolder);
      if (refused) return refused;
    }
    if (name.length > MAX_NAME_LENGTH) {
      return reject('name-too-long', `the name is ${name.length} characters long; OneDrive allows at most ${MAX_NAME_LENGTH}`);
    }
    return { ok: true, name };
  };
}

/**
 * The service caps the decoded server-relative path at 400 characters, and the site and library
 * prefix (`sites/x/Shared Documents/`) count too; `fullPath` should therefore include everything
 * the caller knows of, from the drive root down. Returns why the path is too long, or null.
 */
export function checkRemotePathLength(fullPath: string): string | null {
  const path = fullPath.replace(/^\/+/, '');
  if (path.length <= MAX_REMOTE_PATH_LENGTH) return null;
  return `the remote path is ${path.length} characters long; OneDrive allows at most ${MAX_REMOTE_PATH_LENGTH}`;
}
