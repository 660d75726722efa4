import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { OneDriveConfig } from '../../../src/types.js';
import { createGovernorBuffer, OneDriveDrive } from '../../../src/drives/onedrive/index.js';
import { DEFAULT_USER_AGENT } from '../../../src/drives/onedrive/options.js';
import { SourceFile } from '../../../src/drives/source-file.js';
import { startGraphEmulator, type GraphEmulator } from '../../support/graph-emulator/server.js';

/** One emulator, a scratch directory and every target made from them, torn down together. */
export interface Harness {
  emulator: GraphEmulator;
  dir: string;
  governorBuffer: SharedArrayBuffer;
  config(overrides?: Partial<OneDriveConfig>): OneDriveConfig;
  target(overrides?: Partial<OneDriveConfig>, credential?: TokenCredential): OneDriveDrive;
  /** Writes `content` (or `size` deterministic bytes) to a file in the scratch directory. */
  file(name: string, content: Buffer | number): Promise<string>;
  /** The file opened for an upload, as the worker opens it; closed by `close()`. */
  source(absPath: string): SourceFile;
  close(): Promise<void>;
}

export const CHUNK = 327_680;

export async function startHarness(options: Parameters<typeof startGraphEmulator>[0] = {}): Promise<Harness> {
  const emulator = await startGraphEmulator({ storeContent: true, ...options });
  const dir = await mkdtemp(join(tmpdir(), 'vmb-onedrive-'));
  const governorBuffer = createGovernorBuffer();
  const targets: OneDriveDrive[] = [];
  const sources: SourceFile[] = [];
  const config = (overrides: Partial<OneDriveConfig> = {}): OneDriveConfig => ({
    kind: 'onedrive',
    driveId: emulator.driveId,
    remoteRoot: '/vmb',
    graphUrl: emulator.url,
    chunkSize: CHUNK,
    simpleUploadMax: CHUNK,
    retries: 4,
    requestTimeoutMs: 5_000,
    bufferBytes: 64 * 1024 * 1024,
    maxRate: 0,
    bwlimit: 0,
    userAgent: DEFAULT_USER_AGENT,
    governorBuffer,
    staticToken: emulator.token,
    ...overrides,
  });
  return {
    emulator,
    dir,
    governorBuffer,
    config,
    target(overrides = {}, credential) {
      const target = new OneDriveDrive(config(credential ? { staticToken: undefined, ...overrides } : overrides), { credential, env: {} });
      targets.push(target);
      return target;
    },
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, typeof content === 'number' ? patterned(content) : content);
      return path;
    },
    source(absPath) {
      const source = SourceFile.open(absPath);
      sources.push(source);
      return source;
    },
    async close() {
      await Promise.all(targets.map((t) => t.close()));
      for (const source of sources) source.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes that differ from chunk to chunk, so a chunk sent twice or skipped changes the hash. */
export function patterned(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 11)) & 0xff;
  return bytes;
}

/** A TokenCredential that hands out `tokens()` and counts how often it was asked. */
export function countingCredential(tokens: () => string): TokenCredential & { calls: number } {
  const credential = {
    calls: 0,
    async getToken(): Promise<AccessToken> {
      credential.calls++;
      return { token: tokens(), expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return credential;
}

export const isUploadUrl = (path: string) => path.startsWith('/upload/');
