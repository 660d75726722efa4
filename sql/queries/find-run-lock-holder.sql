-- The session holding the run lock $1, and the 'running' run row it recorded (if any).
-- A bigint advisory lock is stored as classid = high 32 bits, objid = low 32 bits, objsubid = 1,
-- scoped to the current database.
SELECT l.pid AS backend_pid,
       r.id AS run_id,
       r.host,
       r.pid,
       r.started_at,
       host(a.client_addr) AS client_addr,
       a.backend_start
FROM pg_locks l
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
LEFT JOIN LATERAL (
  SELECT id, host, pid, started_at
  FROM corporate.vmb_import_runs
  WHERE status = 'running' AND backend_pid = l.pid AND lock_key = $1::bigint
  ORDER BY id DESC
  LIMIT 1
) r ON true
WHERE l.locktype = 'advisory'
  AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ((($1::bigint >> 32) & 4294967295)::oid)
  AND l.objid = (($1::bigint & 4294967295)::oid)
  AND l.objsubid = 1
LIMIT 1
