-- Tie a run row to the PostgreSQL session that holds its run lock (src/db/run-lock.ts), so that
-- "who holds the lock" can be answered from pg_locks, and rows left 'running' by a dead run found.
ALTER TABLE corporate.vmb_import_runs
  ADD COLUMN backend_pid integer,
  ADD COLUMN lock_key bigint;

CREATE INDEX vmb_import_runs_running_idx ON corporate.vmb_import_runs (import_root, drive_id, remote_root)
  WHERE status = 'running';
