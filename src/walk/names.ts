// Directory entries are read as raw bytes because Node decodes invalid UTF-8 lossily with string
// paths: two different names could come out as the same string, and the lossy string would not
// open the original file. Names are therefore checked here before they become paths.

// ignoreBOM: a name may begin with U+FEFF, and dropping it would name a different file.
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The name as a string, or undefined when its bytes are not valid UTF-8. */
export function decodeName(bytes: Buffer): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A printable, unambiguous rendering of a name for reasons and logs: valid UTF-8 sequences are
 * kept, every invalid byte and every control character is shown as \xNN, and '\' is doubled so the
 * escapes cannot be confused with a real backslash in the name.
 */
export function escapeNameBytes(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes[i]!);
    const text = length === 0 ? undefined : decodeName(bytes.subarray(i, i + length));
    if (text === undefined) {
      out += hex(bytes[i]!);
      i += 1;
      continue;
    }
    const code = text.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += length === 1 ? hex(code) : hexAll(bytes.subarray(i, i + length));
    else if (text === '\\') out += '\\\\';
    else out += text;
    i += length;
  }
  return out;
}

function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const hex = (byte: number) => `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
const hexAll = (bytes: Buffer) => Array.from(bytes, hex).join('');
