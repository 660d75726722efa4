-- A check is recorded once it is done, in the transaction that writes what it found and changed.
INSERT INTO corporate.vmb_import_runs
  (kind, import_root, drive_id, remote_root, options, host, pid, vmb_version, dry_run, started_at, finished_at, status, counts)
VALUES ('check', $1, $2, $3, $4::jsonb, $5, $6, $7, false, $8, now(), $9, $10::jsonb)
RETURNING id
