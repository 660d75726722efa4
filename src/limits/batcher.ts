/**
 * Gathers items for one `flush` at a time (after graphile-worker's `batch()`): a batch is flushed
 * when it is full, when the caller says nothing more is coming soon, or when its first item has
 * waited `maxDelayMs`. Items added while a batch is flushing form the next one, so the batch size
 * follows the rate items arrive at. `add` resolves once the item's flush has succeeded.
 */

/** What `flush` says of each item, in order: undefined when done, otherwise the error it failed with. */
export type ItemOutcome = unknown;

export interface BatcherOptions<T> {
  maxSize: number;
  maxDelayMs: number;
  /** Rejecting fails every item of the batch with that error. */
  flush: (items: T[]) => Promise<readonly ItemOutcome[]>;
  /** With `waiting` items pending or flushing: is nothing more coming soon, so flush now? */
  nothingMoreSoon?: (waiting: number) => boolean;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Batcher<T> {
  private pending: Pending<T>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private overdue = false;
  private flushing = false;
  private inFlush = 0;

  constructor(private readonly options: BatcherOptions<T>) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length === 0) return;
    if (!this.flushing && this.due()) {
      this.startFlush();
      return;
    }
    if (!this.overdue) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.overdue = true;
        this.schedule();
      }, this.options.maxDelayMs);
    }
  }

  private due(): boolean {
    const { maxSize, nothingMoreSoon } = this.options;
    return this.overdue || this.pending.length >= maxSize || (nothingMoreSoon?.(this.pending.length + this.inFlush) ?? false);
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.overdue = false;
    const batch = this.pending.splice(0, this.options.maxSize);
    this.flushing = true;
    this.inFlush = batch.length;
    void this.flush(batch).finally(() => {
      this.flushing = false;
      this.inFlush = 0;
      this.schedule();
    });
  }

  private async flush(batch: Pending<T>[]): Promise<void> {
    let outcomes: readonly ItemOutcome[];
    try {
      outcomes = await this.options.flush(batch.map((p) => p.item));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => (outcomes[i] === undefined ? p.resolve() : p.reject(outcomes[i])));
  }
}
