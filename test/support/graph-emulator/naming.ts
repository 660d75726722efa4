/**
 * OneDrive for Business / SharePoint Online naming rules (graph-notes.md section 4, from Microsoft's
 * "Restrictions and limitations in OneDrive and SharePoint", plus rclone's finding that a trailing
 * period is rejected too). `#` and `%` are allowed: only old ODB and SharePoint Server banned them.
 */

const FORBIDDEN_CHARACTERS = /["*:<>?/\\|]/;
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

/** Documented cap on the decoded server-relative path (site and library prefix included). */
export const MAX_PATH_LENGTH = 400;

export interface NameContext {
  isFolder: boolean;
  /** True when the item goes directly into the drive's root (the library root). */
  atRoot: boolean;
}

/** The rule the name breaks, as a message for a 400 invalidRequest; null when the name is fine. */
export function nameProblem(name: string, context: NameContext): string | null {
  if (name.length === 0) return 'The name is empty.';
  const bad = FORBIDDEN_CHARACTERS.exec(name);
  if (bad) return `The name "${name}" contains the character '${bad[0]}'; names cannot contain " * : < > ? / \\ |.`;
  if (name.startsWith(' ') || name.endsWith(' ')) return `The name "${name}" begins or ends with a space, which is not allowed.`;
  if (name.endsWith('.')) return `The name "${name}" ends with a period, which is not allowed.`;
  const lower = name.toLowerCase();
  if (RESERVED_NAMES.has(lower)) return `The name "${name}" is reserved (.lock, CON, PRN, AUX, NUL, COM0-9, LPT0-9, desktop.ini).`;
  if (name.startsWith('~$')) return `The name "${name}" begins with "~$", which is not allowed.`;
  if (lower.includes('_vti_')) return `The name "${name}" contains "_vti_", which is not allowed.`;
  if (context.isFolder && context.atRoot && lower === 'forms') return 'A folder named "forms" is not allowed at the root of a library.';
  if (context.isFolder && name.startsWith('~')) return `The folder name "${name}" begins with "~", which SharePoint does not allow for folders.`;
  return null;
}
