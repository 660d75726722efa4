-- Sessions each run left open (the run that last sent to a session owns it).
SELECT run_id, count(*)::int AS n
FROM corporate.vmb_upload_sessions
WHERE run_id = ANY ($1::bigint[])
GROUP BY run_id
