SELECT upload_url, expires_at, created_at, bytes_confirmed,
       source_size, source_mtime_ns, source_ctime_ns, source_ino, source_dev
FROM corporate.vmb_upload_sessions
WHERE drive_id = $1 AND remote_root = $2 AND remote_path = $3
