INSERT INTO corporate.vmb_import_runs (import_root, drive_id, remote_root, options, host, pid, vmb_version, dry_run)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, false)
RETURNING id, started_at
