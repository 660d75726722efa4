-- In the order they were recorded; total counts every failure of the run, before LIMIT ($2 NULL = all).
SELECT source_path, stage, error_code, message, created_at, count(*) OVER () AS total
FROM corporate.vmb_import_failures
WHERE run_id = $1
ORDER BY id
LIMIT $2
