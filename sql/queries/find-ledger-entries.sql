-- Planning lookup for one batch of walked paths: what the ledger already holds for them.
SELECT remote_path, is_folder, source_size,
       (extract(epoch FROM source_mtime) * 1000)::bigint AS source_mtime_ms,
       local_hash
FROM corporate.vmb_items
WHERE drive_id = $1 AND remote_root = $2 AND remote_path = ANY($3::text[])
