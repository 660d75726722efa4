-- Newest first; LIMIT NULL means all.
SELECT r.id, r.started_at, r.finished_at, r.status, r.dry_run, r.import_root, r.drive_id, r.remote_root,
       r.counts, r.host, r.pid, r.vmb_version,
       (SELECT count(*) FROM corporate.vmb_import_failures f WHERE f.run_id = r.id) AS failures_recorded
FROM corporate.vmb_import_runs r
ORDER BY r.id DESC
LIMIT $1
