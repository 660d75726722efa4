import type { Dirent } from 'node:fs';
import { opendir } from 'node:fs/promises';

/** @types/node does not model `encoding: 'buffer'` for opendir; at run time each Dirent's name is then a Buffer. */
interface RawDir {
  /** The callback form: it spares a promise per entry. */
  read(callback: (err: Error | null, dirent: Dirent<Buffer> | null) => void): void;
  close(): Promise<void>;
}

/**
 * How many entries of one directory are read ahead of the one being taken. Each is examined as
 * soon as it is read, so up to this many `lstat`s are in flight together instead of one after
 * another. They run on the libuv threadpool (4 threads by default), which the importer's file
 * reads share: more would only lengthen its queue, and delay those reads behind it.
 */
const LOOK_AHEAD = 64;

/** The look-ahead is topped up once it falls to this, so reading the listing happens in bursts. */
const REFILL_AT = LOOK_AHEAD / 2;

/** When the next entry is not examined yet, the reader waits for this many (see `settled`). */
const WAIT_BATCH = 16;

/** Entries Node fetches per readdir call (its default is 32): fewer threadpool round trips per directory. */
const DIR_BUFFER = 128;

/**
 * The outcome of examining one entry, filled in when it is known. A plain object rather than a
 * promise per entry: most outcomes are known at once or come from one fs callback, and by the
 * time an entry's turn comes its outcome is usually there, so nothing has to be awaited.
 */
export class Slot<T> {
  done = false;
  private value: T | undefined = undefined;
  private error: unknown = undefined;
  private wake: (() => void) | undefined = undefined;

  settle(value: T): void {
    this.value = value;
    this.finish();
  }

  /** Examining threw, which it is not meant to: `take` rethrows it when the entry's turn comes. */
  fail(err: unknown): void {
    this.error = err ?? new Error('examining a directory entry failed');
    this.finish();
  }

  /** Resolves once the outcome is known. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** The outcome; only once done. */
  take(): T {
    if (this.error !== undefined) throw this.error;
    return this.value as T;
  }

  private finish(): void {
    this.done = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** `ReadAhead.next` once every entry has been taken. */
export const END: unique symbol = Symbol('end of the listing');

/** `ReadAhead.next` when reading the listing failed after the entries taken so far. */
export class ListingFailed {
  constructor(readonly cause: unknown) {}
}

/**
 * One directory's listing, read ahead of the entry being taken: entries come out one by one in
 * listing order, while up to LOOK_AHEAD of the next ones are already being examined. It holds one
 * open Dir handle (one file descriptor) until `close`, and at most LOOK_AHEAD outcomes, so memory
 * never grows with the directory's size. `T` is whatever examining an entry yields.
 */
export class ReadAhead<T> {
  /** Entries read but not yet taken, in listing order, each being examined. */
  private readonly ahead: Slot<T>[] = [];
  /** The listing has been read to its end, or has failed (then `failure` says how). */
  private ended = false;
  private failure: ListingFailed | undefined = undefined;

  private constructor(
    private readonly dir: RawDir,
    private readonly examine: (dirent: Dirent<Buffer>) => Slot<T>,
  ) {}

  static async open<T>(dirPath: string, examine: (dirent: Dirent<Buffer>) => Slot<T>): Promise<ReadAhead<T>> {
    const dir = (await opendir(dirPath, { encoding: 'buffer' as BufferEncoding, bufferSize: DIR_BUFFER })) as unknown as RawDir;
    return new ReadAhead(dir, examine);
  }

  /** Whether `next` can answer now; otherwise `await prepare()` first. Most of the time it can, and no promise is made. */
  ready(): boolean {
    if (this.wantsMore()) return false;
    const first = this.ahead[0];
    return first === undefined || first.done;
  }

  /** Tops up the look-ahead when it has run low, then waits for the next entry's outcome. Never rejects. */
  async prepare(): Promise<void> {
    if (this.wantsMore()) await this.readMore();
    const first = this.ahead[0];
    if (first !== undefined && !first.done) await this.settled();
  }

  /** The next entry's outcome (only when `ready`), rethrowing what its examination threw. */
  next(): T | typeof END | ListingFailed {
    const slot = this.ahead.shift();
    if (slot === undefined) return this.failure ?? END;
    return slot.take();
  }

  /** Entries still being examined are dropped: they hold no handles, and their fs calls just finish. */
  close(): Promise<void> {
    return this.dir.close();
  }

  private wantsMore(): boolean {
    return !this.ended && this.ahead.length <= REFILL_AT;
  }

  /**
   * Tops the look-ahead up to LOOK_AHEAD: reads entries one after another (a Dir serves one read
   * at a time, most of them from its buffer) and starts examining each as soon as it is read.
   * Never rejects: a failing listing ends it, with `failure` saying why.
   */
  private readMore(): Promise<void> {
    return new Promise((resolve) => {
      const stop = (err?: unknown) => {
        this.ended = true;
        if (err !== undefined) this.failure = new ListingFailed(err);
        resolve();
      };
      const readNext = () => {
        try {
          this.dir.read(onRead);
        } catch (err) {
          stop(err ?? new Error('reading a directory failed'));
        }
      };
      const onRead = (err: Error | null, dirent: Dirent<Buffer> | null) => {
        if (err) return stop(err);
        if (dirent === null) return stop();
        let slot: Slot<T>;
        try {
          slot = this.examine(dirent);
        } catch (failure) {
          slot = new Slot();
          slot.fail(failure);
        }
        this.ahead.push(slot);
        if (this.ahead.length < LOOK_AHEAD) readNext();
        else resolve();
      };
      readNext();
    });
  }

  /**
   * Waits for the first slot, and for a few after it: fs calls finish about in the order they
   * were issued, so waking once per batch rather than once per entry saves event-loop turns,
   * while the rest of the look-ahead keeps the threadpool busy meanwhile.
   */
  private async settled(): Promise<void> {
    const ahead = this.ahead;
    const last = ahead[Math.min(ahead.length, WAIT_BATCH) - 1]!;
    if (!last.done) await last.wait();
    const first = ahead[0]!;
    if (!first.done) await first.wait();
  }
}
