/**
 * A signal aborted by either of two, made once per pair. Every upload of a thread passes the same
 * two (the thread's abort and halt), and `AbortSignal.any` per upload costs more than it looks: in
 * the benchmark's small-file case it was the importer's largest cost of its own after parsing JSON
 * (allocation, and the GC of signals Node keeps tracked until both sources are collected).
 */
const combined = new WeakMap<AbortSignal, WeakMap<AbortSignal, AbortSignal>>();

export function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  let withA = combined.get(a);
  if (withA === undefined) combined.set(a, (withA = new WeakMap()));
  let either = withA.get(b);
  if (either === undefined) withA.set(b, (either = AbortSignal.any([a, b])));
  return either;
}
