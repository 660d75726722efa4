-- Newest first; LIMIT NULL means all. `kind` through to_jsonb: a ledger an older vmb-import
-- migrated (read-only access does not migrate) has no kind column, and all its runs are imports.
SELECT r.id, r.started_at, r.finished_at, r.status, r.dry_run, r.import_root, r.drive_id, r.remote_root,
       r.counts, r.host, r.pid, r.vmb_version, coalesce(to_jsonb(r) ->> 'kind', 'import') AS kind,
       (SELECT count(*) FROM corporate.vmb_import_failures f WHERE f.run_id = r.id) AS failures_recorded
FROM corporate.vmb_import_runs r
ORDER BY r.id DESC
LIMIT $1
