/** Clean-up steps of a run, run last-in first-out; one failing does not stop the others. */
export class Releasers {
  private readonly steps: { name: string; release: () => Promise<unknown> | unknown }[] = [];

  add(name: string, release: () => Promise<unknown> | unknown): void {
    this.steps.push({ name, release });
  }

  async releaseAll(onError: (name: string, err: unknown) => void): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.release();
      } catch (err) {
        onError(step.name, err);
      }
    }
  }
}
