import type { OptionTable, Values } from '../options/option.js';
import type { DriveConfig, DriveKey, TrafficReading } from '../types.js';
import type { RemoteNamer } from './drive.js';

/**
 * One kind of drive as the main thread knows it (after rclone's backend registration): its own
 * options and how to prepare a run's drive from them. Worker threads never see this; they build
 * their drive from the plain `DriveConfig` it prepares (src/drives/create-drive.ts).
 */
export interface DriveBackend<K extends DriveConfig['kind'] = DriveConfig['kind'], T extends OptionTable = OptionTable> {
  readonly kind: K;
  /** One line for --help: what --target KIND uploads to. */
  readonly title: string;
  readonly options: T;
  /**
   * Check the configuration in the main thread, so that a mistake is one line and exit code 2
   * before any file is touched; `probe` (a real run) also checks that the drive answers.
   */
  prepare(options: Values<T>, run: PrepareContext): Promise<PreparedDrive>;
}

export interface PrepareContext {
  threads: number;
  env: NodeJS.ProcessEnv;
  probe: boolean;
}

/** A run's drive as the main thread uses it: how threads build theirs, and the planning rules. */
export interface PreparedDrive {
  config: DriveConfig;
  key: DriveKey;
  namer: RemoteNamer;
  /** Why a whole remote path (below the remote root) cannot be used, or null. */
  checkPath: (remotePath: string) => string | null;
  /** For messages and the summary. */
  describe: string;
  /** The drive's traffic shared by every thread, for the run to watch; absent when there is none (local). */
  traffic?: DriveTraffic;
}

/** What the main thread sees of a drive's pool-wide traffic state and the limits it is held to. */
export interface DriveTraffic {
  read(): TrafficReading;
  /** The run is stopping: requests waiting for their turn give up, later ones fail at once. */
  release(): void;
  /** Starts from a pace an earlier run learned (RU per minute), unless one is learned already. */
  seed(ratePerMinute: number): void;
  /** --throttle-timeout: a throttled stretch this long stops the run. */
  throttleTimeoutMs: number;
  /** --blocked-after: 503s only for this long mean the app is blocked. */
  blockedAfterMs: number;
}
