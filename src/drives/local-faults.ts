import type { CodeOf } from '../errors/codes.js';

/** Faults of this machine, not of the file: worth another try (a full disk may be cleared, a descriptor freed). */
const LOCAL_FAULTS = { ENOSPC: 'local-enospc', EIO: 'local-eio', EMFILE: 'local-emfile', ENFILE: 'local-enfile' } as const satisfies Record<string, CodeOf<'retryable'>>;

/** The retryable code of an fs error that is this machine's fault, or undefined. */
export function localFault(err: unknown): CodeOf<'retryable'> | undefined {
  return LOCAL_FAULTS[(err as NodeJS.ErrnoException)?.code as keyof typeof LOCAL_FAULTS];
}
