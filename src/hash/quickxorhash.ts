/**
 * quickXorHash, the only content hash OneDrive for Business reports (`file.hashes.quickXorHash`).
 *
 * The definition: a 160-bit state; byte i of the input is XORed in at bit offset (11·i) mod 160,
 * rotating round the state; at the end the 64-bit little-endian input length is XORed into bytes
 * 12–19 and the 20 bytes are base64-encoded. References: Microsoft's C# snippet
 * (learn.microsoft.com/onedrive/developer/code-snippets/quickxorhash) and rclone's
 * backend/onedrive/quickxorhash.
 *
 * Why this is fast: since 11 and 160 are coprime, byte i always lands at the same bit offset as
 * byte i+160, and XOR is linear, so every byte with the same i mod 160 can be XORed together first
 * and placed into the state only once, at digest time. `update` therefore only folds the input into
 * a 160-byte accumulator, 32 bits at a time, with no shifts and no allocation per byte.
 */

const WIDTH_BYTES = 160;
const WIDTH_WORDS = WIDTH_BYTES / 4;
const STATE_BYTES = 20;
const SHIFT = 11;
const LENGTH_OFFSET = STATE_BYTES - 8;
/** Misaligned input is copied through this much scratch space so it can be read as 32-bit words. */
const SCRATCH_BYTES = 64 * 1024;
/** Below this many bytes the word loop's setup costs more than it saves. */
const MIN_WORD_RUN = 64;

export class QuickXorHash {
  private readonly acc = new Uint8Array(WIDTH_BYTES);
  private readonly accWords = new Uint32Array(this.acc.buffer);
  /** Where the next input byte goes in `acc` (input offset mod 160). */
  private pos = 0;
  private length = 0;
  private scratch: Uint8Array | undefined;
  private scratchWords: Uint32Array | undefined;

  update(data: Uint8Array): this {
    const n = data.length;
    this.length += n;
    const acc = this.acc;
    let pos = this.pos;
    let i = 0;

    while (i < n && (pos & 3) !== 0) {
      acc[pos] ^= data[i++];
      pos = pos + 1 === WIDTH_BYTES ? 0 : pos + 1;
    }

    const wordBytes = (n - i) & ~3;
    if (wordBytes >= MIN_WORD_RUN) {
      const start = data.byteOffset + i;
      if ((start & 3) === 0) {
        pos = this.foldWords(new Uint32Array(data.buffer, start, wordBytes >>> 2), pos);
      } else {
        pos = this.foldMisaligned(data, i, wordBytes, pos);
      }
      i += wordBytes;
    }

    while (i < n) {
      acc[pos] ^= data[i++];
      pos = pos + 1 === WIDTH_BYTES ? 0 : pos + 1;
    }
    this.pos = pos;
    return this;
  }

  /** The 20-byte hash of everything fed so far; the hash can keep being fed afterwards. */
  digest(): Buffer {
    const state = Buffer.alloc(STATE_BYTES);
    const acc = this.acc;
    for (let p = 0; p < WIDTH_BYTES; p++) {
      const v = acc[p];
      if (v === 0) continue;
      const bit = (SHIFT * p) % (STATE_BYTES * 8);
      const at = bit >>> 3;
      const shift = bit & 7;
      state[at] ^= (v << shift) & 0xff;
      if (shift !== 0) state[at + 1 === STATE_BYTES ? 0 : at + 1] ^= v >>> (8 - shift);
    }
    let len = this.length;
    for (let b = LENGTH_OFFSET; b < STATE_BYTES && len > 0; b++) {
      state[b] ^= len % 256;
      len = Math.floor(len / 256);
    }
    return state;
  }

  digestBase64(): string {
    return this.digest().toString('base64');
  }

  /** `pos` must be a multiple of 4; returns the position after the words. */
  private foldWords(words: Uint32Array, pos: number): number {
    const acc = this.accWords;
    const count = words.length;
    let w = pos >>> 2;
    let k = 0;
    while (w !== 0 && k < count) {
      acc[w] ^= words[k++];
      if (++w === WIDTH_WORDS) w = 0;
    }
    const fullEnd = k + Math.floor((count - k) / WIDTH_WORDS) * WIDTH_WORDS;
    while (k < fullEnd) {
      for (let j = 0; j < WIDTH_WORDS; j++) acc[j] ^= words[k + j];
      k += WIDTH_WORDS;
    }
    while (k < count) {
      acc[w] ^= words[k++];
      if (++w === WIDTH_WORDS) w = 0;
    }
    return w << 2;
  }

  private foldMisaligned(data: Uint8Array, from: number, byteCount: number, pos: number): number {
    if (this.scratch === undefined || this.scratchWords === undefined) {
      this.scratch = new Uint8Array(SCRATCH_BYTES);
      this.scratchWords = new Uint32Array(this.scratch.buffer);
    }
    const scratch = this.scratch;
    const scratchWords = this.scratchWords;
    const end = from + byteCount;
    for (let at = from; at < end; at += SCRATCH_BYTES) {
      const take = Math.min(SCRATCH_BYTES, end - at);
      scratch.set(data.subarray(at, at + take));
      pos = this.foldWords(take === SCRATCH_BYTES ? scratchWords : scratchWords.subarray(0, take >>> 2), pos);
    }
    return pos;
  }
}

export function quickXorHashBase64(data: Uint8Array): string {
  return new QuickXorHash().update(data).digestBase64();
}
