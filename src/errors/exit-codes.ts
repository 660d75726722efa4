/**
 * Process exit codes, each with what it tells cron or systemd: the table behind `--help`'s
 * epilogue and the README's exit-code table (test/docs/readme-tables.test.ts holds the README to it).
 */
export const EXIT_CODES = {
  ok: { code: 0, meaning: 'every file imported, unchanged, skipped by rule or deferred' },
  partial: {
    code: 0,
    meaning:
      'the run ended `partial` at --max-runtime or --throttle-timeout, none failing: what it did is recorded and the rest is left for the next run, which continues the uploads it stopped; that is how a bounded cron run is meant to end, not an error (some files failed as well: 1)',
  },
  someFilesFailed: { code: 1, meaning: 'some files failed (the others are imported and recorded), an after-upload action failed, or the run ended `failed` (graph-blocked: the tenant may have blocked the app)' },
  drift: { code: 1, meaning: '`check`: the ledger and the drive differ (after `--fix`: differences it does not mend remain); `missing-local` alone is not drift' },
  config: { code: 2, meaning: 'usage or configuration error: one line on stderr saying what to fix, no stack trace' },
  unlisted: { code: 3, meaning: '`check`: the drive could not be listed (requests kept failing after --retries); nothing was compared, changed or recorded' },
  software: { code: 70, meaning: 'a bug (EX_SOFTWARE): one line on stderr, the stack in the log' },
  locked: { code: 75, meaning: 'another run holds the lock for this root and target (the line names its run id, host, pid and start)' },
  sigint: { code: 130, meaning: 'interrupted by SIGINT (the run is `interrupted`)' },
  sigterm: { code: 143, meaning: 'interrupted by SIGTERM (the run is `interrupted`)' },
} as const;


