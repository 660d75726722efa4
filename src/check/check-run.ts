import { stat } from 'node:fs/promises';
import os from 'node:os';
import { BACKENDS, prepareDrive } from '../drives/backends.js';
import { localDriveKey } from '../drives/local/local-drive.js';
import { OneDriveDrive } from '../drives/onedrive/onedrive-drive.js';
import { fatal, VmbError } from '../errors/vmb-error.js';
import { insertCheckRun, listCheckRows } from '../ledger/statements.js';
import { inTransaction } from '../ledger/transaction.js';
import type { Logger } from '../log/logger.js';
import { flagged } from '../run/import-options.js';
import { openLedger } from '../run/open-ledger.js';
import { Releasers } from '../run/releasers.js';
import type { CheckSummary, DriveKey, FixReport, LedgerItem } from '../types.js';
import { VERSION } from '../version.js';
import { checkRoot } from '../walk/root.js';
import { CHECK_OPTIONS, type CheckOptions } from './check-options.js';
import { compare, countByClass, isDrift } from './compare.js';
import { applyFix, planFix, planReport } from './fix.js';
import { listLocal, listOneDrive, loadStoredListing, type DriveListing, type StoredListing } from './list-drive.js';
import { rowsMissingLocally } from './source-tree.js';

/** PostgreSQL's undefined_table: a read-only check of a ledger no vmb-import has migrated yet. */
const UNDEFINED_TABLE = '42P01';

interface Target {
  key: DriveKey;
  describe: string;
  list: (stored: StoredListing) => Promise<DriveListing>;
  /** Whether a listing is kept in the ledger between checks. */
  keepsListing: boolean;
}

/**
 * One `vmb-import check`, on the main thread with its one ledger connection: list the drive (the
 * local folder walked, or OneDrive's delta feed continued from the stored deltaLink), compare with
 * the rows of the same drive and remote root, read the source tree if one is given, and, unless a
 * dry run, write in one transaction the listing and its link, what --fix changes, and the run row.
 */
export async function runCheck(o: CheckOptions, log: Logger): Promise<CheckSummary> {
  const started = new Date();
  const releasers = new Releasers();
  try {
    if (o.sourceRoot !== null) await checkRoot(o.sourceRoot);
    const target = await openTarget(o, releasers);
    const ledger = await openLedger({ databaseUrl: o.databaseUrl, dataDir: o.dataDir, env: o.env }, { readOnly: o.dryRun, applicationName: 'vmb-import/check' }, releasers, log);
    if (!ledger.schemaReady) log.warn('the ledger schema is not installed or not up to date; a dry run does not migrate, and compares without a stored listing');
    const { rows, stored } = await ledger.connection.run(async (c) => ({
      rows: await listCheckRows(c, target.key).catch((err: unknown) => {
        if ((err as { code?: string }).code === UNDEFINED_TABLE) return [] as LedgerItem[];
        throw err;
      }),
      stored: target.keepsListing && ledger.schemaReady ? await loadStoredListing(c, target.key) : { items: [], deltaLink: null },
    }));
    log.info({ rows: rows.length, from: stored.deltaLink === null ? 'start' : 'stored deltaLink' }, 'listing the drive');
    const listing = await listed(target, stored);
    const missingLocal = o.sourceRoot === null ? [] : await rowsMissingLocally(o.sourceRoot, rows);
    const differences = compare(rows, listing.below, missingLocal);
    const counts = countByClass(differences);
    const plan = o.fix ? planFix(rows, listing.below) : null;
    let fixed: FixReport | null = plan && planReport(plan);
    let remaining: CheckSummary['remaining'] = null;
    let runId: number | null = null;
    if (!o.dryRun) {
      ({ fixed, remaining, runId } = await ledger.connection.run((c) =>
        inTransaction(c, async () => {
          await listing.save?.(c);
          let report: FixReport | null = null;
          let left: CheckSummary['remaining'] = null;
          if (plan) {
            report = await applyFix(c, target.key, plan);
            // The check again, against the ledger as the fix left it.
            const after = await listCheckRows(c, target.key);
            const still = new Set(after.map((r) => r.itemId));
            left = countByClass(compare(after, listing.below, missingLocal.filter((r) => still.has(r.itemId))));
          }
          const status = statusOf(counts, left);
          const id = await insertCheckRun(c, {
            importRoot: o.sourceRoot,
            ...target.key,
            options: { ...flagged(CHECK_OPTIONS, o, 'recorded'), ...flagged(BACKENDS[o.drive.kind].options, o.drive, 'recorded') },
            host: os.hostname(),
            pid: process.pid,
            version: VERSION,
            startedAt: started,
            status: 'succeeded',
            counts: { checkStatus: status, drift: counts, remaining: left, fixed: report && { ...report, left: report.left.length }, rows: rows.length, items: listing.below.size, listing: listing.stats },
          });
          return { fixed: report, remaining: left, runId: id };
        }),
      ));
    }
    return {
      runId,
      status: statusOf(counts, remaining),
      fix: o.fix,
      dryRun: o.dryRun,
      target: target.describe,
      ...target.key,
      sourceRoot: o.sourceRoot,
      rows: rows.length,
      items: listing.below.size,
      listing: listing.stats,
      counts,
      differences,
      fixed,
      remaining,
      durationMs: Date.now() - started.getTime(),
    };
  } finally {
    await releasers.releaseAll((name, err) => log.warn({ step: name, err: (err as Error)?.message }, 'clean-up step failed'));
  }
}

function statusOf(found: Record<string, number>, remaining: Record<string, number> | null): CheckSummary['status'] {
  if (!isDrift(found as never)) return 'clean';
  return remaining !== null && !isDrift(remaining as never) ? 'fixed' : 'drift';
}

/** The drive to list. Checking changes nothing there: a local drive's folder must exist already. */
async function openTarget(o: CheckOptions, releasers: Releasers): Promise<Target> {
  if (o.drive.kind === 'local') {
    const root = o.drive.localRoot;
    const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw fatal('config-local-root', `--local-root ${root} is not a directory; pick the local drive's folder with --local-root`);
    return { key: localDriveKey(root), describe: `local folder ${root}`, list: () => listLocal(root), keepsListing: false };
  }
  const prepared = await prepareDrive(o.drive, { threads: 1, env: o.env, probe: true });
  if (prepared.config.kind !== 'onedrive') throw new Error('a OneDrive target prepared as another kind');
  const drive = new OneDriveDrive(prepared.config, { env: o.env });
  releasers.add('drive', () => drive.close());
  return { key: prepared.key, describe: prepared.describe, list: (stored) => listOneDrive(drive, prepared.key, stored), keepsListing: true };
}

/** A listing that cannot be had after the drive's own retries is the check's failure, not a bug. */
async function listed(target: Target, stored: StoredListing): Promise<DriveListing> {
  try {
    return await target.list(stored);
  } catch (err) {
    if (err instanceof VmbError && err.kind !== 'fatal') throw fatal('drive-listing-failed', `cannot list ${target.describe}: ${err.message}`, { cause: err });
    throw err;
  }
}
