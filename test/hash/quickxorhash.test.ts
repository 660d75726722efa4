import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuickXorHash, quickXorHashBase64 } from '../../src/hash/quickxorhash.js';

interface Vector {
  label: string;
  input: Buffer;
  expected: string;
}

/**
 * The published vectors gathered in docs/graph-facts.md, section 6. The 333-byte input is the one in
 * rclone's backend/onedrive/quickxorhash/quickxorhash_test.go (its `{333, ...}` entry, base64).
 */
const RCLONE_333_BASE64 =
  'w0LGhqU1WXFbdavqDE4kAjEzWLGGzmTNikzqnsiXHx2KRReKVTxkv27u3UcEz9+lbMvYl4xFf2Z4' +
  'aE1xRBBNd1Ke5C0zToSaYw5o4B/7X99nKK2/XaUX1byLow2aju2XJl2OpKpJg+tSJ2fmjIJTkfuY' +
  'Uz574dFX6/VXxSxwGH/xQEAKS5TCsBK3CwnuG1p5SAsQq3gGVozDWyjEBcWDMdy8/AIFrj/y03Lf' +
  'c/RNRCQTAfZbnf2QwV7sluw4fH3XJr07UoD0YqN+7XZzidtrwqMY26fpLZnyZjnBEt1FAZWO7RnK' +
  'G5asg8xRk9YaDdedXdQSJAOy6bWEWlABj+tVAigBxavaluUH8LOj+yfCFldJjNLdi90fVHkUD/m4' +
  'Mr5OtmupNMXPwuG3EQlqWUVpQoYpUYKLsk7a5Mvg6UFkiH596y5IbJEVCI1Kb3D1';

const vectors: Vector[] = [
  { label: 'the empty input', input: Buffer.alloc(0), expected: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
  { label: '"a"', input: Buffer.from('a'), expected: 'YQAAAAAAAAAAAAAAAQAAAAAAAAA=' },
  { label: '"hello"', input: Buffer.from('hello'), expected: 'aCgDG9jwBgAAAAAABQAAAAAAAAA=' },
  { label: '"hello world"', input: Buffer.from('hello world'), expected: 'aCgDG9jwBhDc4Q1yawMZAAAAAAA=' },
  {
    label: 'the quick brown fox sentence',
    input: Buffer.from('The quick brown fox jumps over the lazy dog'),
    expected: 'bMSlbysmxJL6S75XwfMcQZOpcr4=',
  },
  {
    label: 'the bytes 0x00 to 0xFF',
    input: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    expected: 'QkGEfSisZcA7k+FCh71r2dbCayY=',
  },
  { label: '1000 zero bytes', input: Buffer.alloc(1000), expected: 'AAAAAAAAAAAAAAAA6AMAAAAAAAA=' },
  { label: 'the single byte 0x4A', input: Buffer.from([0x4a]), expected: 'SgAAAAAAAAAAAAAAAQAAAAAAAAA=' },
  { label: "rclone's 333-byte input", input: Buffer.from(RCLONE_333_BASE64, 'base64'), expected: 'e3+wo77iKcILiZegnzyUNcjCdoQ=' },
];

function hashInPieces(input: Uint8Array, pieceSize: number): string {
  const hash = new QuickXorHash();
  for (let at = 0; at < input.length; at += pieceSize) hash.update(input.subarray(at, at + pieceSize));
  return hash.digestBase64();
}

/** Straight from the definition, one bit at a time: slow, but obviously right. */
function referenceHash(input: Uint8Array): string {
  const state = new Uint8Array(20);
  for (let i = 0; i < input.length; i++) {
    const offset = (11 * i) % 160;
    for (let bit = 0; bit < 8; bit++) {
      if (((input[i] >> bit) & 1) === 0) continue;
      const at = (offset + bit) % 160;
      state[at >> 3] ^= 1 << (at & 7);
    }
  }
  let length = input.length;
  for (let b = 12; b < 20; b++) {
    state[b] ^= length % 256;
    length = Math.floor(length / 256);
  }
  return Buffer.from(state).toString('base64');
}

/** Deterministic pseudo-random bytes, so a failure reproduces. */
function pseudoRandomBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test('the rclone 333-byte input really is 333 bytes long', () => {
  assert.equal(Buffer.from(RCLONE_333_BASE64, 'base64').length, 333);
});

for (const { label, input, expected } of vectors) {
  test(`the hash of ${label} fed whole matches the published value`, () => {
    assert.equal(quickXorHashBase64(input), expected);
    assert.equal(new QuickXorHash().update(input).digestBase64(), expected);
  });

  test(`the hash of ${label} fed in 7-byte pieces matches the published value`, () => {
    assert.equal(hashInPieces(input, 7), expected);
  });

  test(`the hash of ${label} fed byte by byte matches the published value`, () => {
    assert.equal(hashInPieces(input, 1), expected);
  });
}

test('the digest is 20 bytes and its base64 form is 28 characters', () => {
  const hash = new QuickXorHash().update(Buffer.from('hello'));
  assert.equal(hash.digest().length, 20);
  assert.equal(hash.digestBase64().length, 28);
});

test('taking a digest does not disturb the hash, which can keep being fed', () => {
  const hash = new QuickXorHash().update(Buffer.from('hello'));
  assert.equal(hash.digestBase64(), 'aCgDG9jwBgAAAAAABQAAAAAAAAA=');
  hash.update(Buffer.from(' world'));
  assert.equal(hash.digestBase64(), 'aCgDG9jwBhDc4Q1yawMZAAAAAAA=');
});

test('large inputs agree with a bit-by-bit reference whatever the piece sizes and alignment', () => {
  const backing = pseudoRandomBytes(70_000 + 3, 42);
  for (const offset of [0, 1, 2, 3]) {
    const input = backing.subarray(offset, offset + 70_000);
    const expected = referenceHash(input);
    assert.equal(quickXorHashBase64(input), expected, `whole, offset ${offset}`);
    for (const pieceSize of [1, 3, 7, 64, 159, 160, 161, 4099, 65_537]) {
      assert.equal(hashInPieces(input, pieceSize), expected, `pieces of ${pieceSize}, offset ${offset}`);
    }
  }
});

test('irregular piece sizes give the same hash as one piece', () => {
  const input = pseudoRandomBytes(200_000, 7);
  const expected = quickXorHashBase64(input);
  const hash = new QuickXorHash();
  const sizes = [1, 2, 3, 5, 63, 64, 65, 100, 333, 1024, 4097, 65_536, 70_001];
  let at = 0;
  for (let k = 0; at < input.length; k++) {
    const size = sizes[k % sizes.length];
    hash.update(input.subarray(at, at + size));
    at += size;
  }
  assert.equal(hash.digestBase64(), expected);
});
