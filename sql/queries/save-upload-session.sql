-- A new upload session for a target path, before its first fragment; replaces the path's older one.
INSERT INTO corporate.vmb_upload_sessions AS s
  (drive_id, remote_root, remote_path, source_path, parent_item_id, name, upload_url, expires_at, bytes_confirmed,
   source_size, source_mtime_ns, source_ctime_ns, source_ino, source_dev, run_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (drive_id, remote_root, remote_path) DO UPDATE SET
  source_path     = EXCLUDED.source_path,
  parent_item_id  = EXCLUDED.parent_item_id,
  name            = EXCLUDED.name,
  upload_url      = EXCLUDED.upload_url,
  expires_at      = EXCLUDED.expires_at,
  bytes_confirmed = EXCLUDED.bytes_confirmed,
  source_size     = EXCLUDED.source_size,
  source_mtime_ns = EXCLUDED.source_mtime_ns,
  source_ctime_ns = EXCLUDED.source_ctime_ns,
  source_ino      = EXCLUDED.source_ino,
  source_dev      = EXCLUDED.source_dev,
  run_id          = EXCLUDED.run_id,
  created_at      = EXCLUDED.created_at,
  updated_at      = now()
