import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { QuickXorHash } from './quickxorhash.js';

const BUFFER_BYTES = 1024 * 1024;

/** quickXorHash (base64) of a file's content, read in 1 MiB pieces. */
export async function hashFile(absPath: string): Promise<string> {
  const handle = await open(absPath, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const hash = new QuickXorHash();
    const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return hash.digestBase64();
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}
