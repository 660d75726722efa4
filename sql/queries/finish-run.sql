UPDATE corporate.vmb_import_runs
SET status = $2, finished_at = now(), counts = $3::jsonb
WHERE id = $1
