-- One page of listed items at a time, as parallel arrays.
INSERT INTO corporate.vmb_remote_items (drive_id, remote_root, item_id, parent_item_id, name, is_folder, size_bytes, content_hash, child_count)
SELECT $1, $2, t.item_id, t.parent_item_id, t.name, t.is_folder, t.size_bytes, t.content_hash, t.child_count
FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::bigint[], $8::text[], $9::integer[])
  AS t (item_id, parent_item_id, name, is_folder, size_bytes, content_hash, child_count)
ON CONFLICT (drive_id, remote_root, item_id) DO UPDATE SET
  parent_item_id = EXCLUDED.parent_item_id,
  name           = EXCLUDED.name,
  is_folder      = EXCLUDED.is_folder,
  size_bytes     = EXCLUDED.size_bytes,
  content_hash   = EXCLUDED.content_hash,
  child_count    = EXCLUDED.child_count
