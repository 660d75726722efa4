DELETE FROM corporate.vmb_upload_sessions
WHERE drive_id = $1 AND remote_root = $2 AND remote_path = $3
