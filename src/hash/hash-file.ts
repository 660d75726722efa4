import { QuickXorHash } from './quickxorhash.js';

const BUFFER_BYTES = 1024 * 1024;

/** Positional reads from an open file, as `SourceFile` offers them. */
export interface ReadAt {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
}

/** quickXorHash (base64) of a file's content, read in 1 MiB pieces. */
export async function hashFile(file: ReadAt): Promise<string> {
  const hash = new QuickXorHash();
  const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  for (let position = 0; ; ) {
    const bytesRead = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return hash.digestBase64();
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}
