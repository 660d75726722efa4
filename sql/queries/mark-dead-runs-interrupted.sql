-- Only called while holding the run lock of this root and target: no live run can own these rows.
UPDATE corporate.vmb_import_runs
SET status = 'interrupted', finished_at = now()
WHERE status = 'running' AND import_root = $1 AND drive_id = $2 AND remote_root = $3
RETURNING id
