/**
 * Graph's limits on an upload session's chunks (docs/graph-facts.md §2): every chunk but the last
 * a multiple of 320 KiB, each request under 60 MiB.
 */
export const CHUNK_QUANTUM = 327_680;
/** The largest multiple of 320 KiB below the 60 MiB per-request limit. */
export const MAX_CHUNK_SIZE = 191 * CHUNK_QUANTUM;

/** What is wrong with a chunk size, as the end of a sentence ("--chunk-size must be …"), or null. */
export function chunkSizeProblem(chunkSize: number): string | null {
  if (Number.isSafeInteger(chunkSize) && chunkSize > 0 && chunkSize % CHUNK_QUANTUM === 0 && chunkSize <= MAX_CHUNK_SIZE) return null;
  return `must be a multiple of ${CHUNK_QUANTUM} bytes (320 KiB) up to ${MAX_CHUNK_SIZE} bytes (59.6 MiB), as Graph requires`;
}
