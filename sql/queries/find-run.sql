-- Run $1, or the most recent run when $1 is NULL.
SELECT id, status, started_at
FROM corporate.vmb_import_runs
WHERE $1::bigint IS NULL OR id = $1::bigint
ORDER BY id DESC
LIMIT 1
