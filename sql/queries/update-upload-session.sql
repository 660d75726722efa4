-- Progress of a session: the bytes the server confirmed, its expiry, and the run now sending to it.
-- An UPDATE, never an upsert, and only of the same session: a late progress write can neither bring
-- back a row its commit deleted nor overwrite a newer session of the path.
UPDATE corporate.vmb_upload_sessions
SET bytes_confirmed = $5, expires_at = $6, run_id = $7, updated_at = now()
WHERE drive_id = $1 AND remote_root = $2 AND remote_path = $3 AND upload_url = $4
