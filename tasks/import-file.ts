import { workerData } from 'piscina';
import type { Task, TaskResult, WorkerConfig } from '../src/types.js';
import { importTask } from '../src/worker/import-file.js';
import { listenForTeardown } from '../src/worker/thread-context.js';

/** The Piscina task module: one task per file (src/worker/import-file.ts tells its story). */
const config = workerData as WorkerConfig;
listenForTeardown(config);

export default function importFile(task: Task): Promise<TaskResult> {
  return importTask(config, task);
}
