SELECT item_id, parent_item_id, name, is_folder, size_bytes, content_hash, child_count
FROM corporate.vmb_remote_items
WHERE drive_id = $1 AND remote_root = $2
