-- Run on the session that holds the lock: pg_backend_pid() is the pid pg_locks shows for it.
UPDATE corporate.vmb_import_runs
SET backend_pid = pg_backend_pid(), lock_key = $2::bigint
WHERE id = $1
