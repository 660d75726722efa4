-- check --fix: rows follow their items to where the drive has them (parallel arrays by item id).
UPDATE corporate.vmb_items i
SET parent_item_id = t.parent_item_id, name = t.name, remote_path = t.remote_path, updated_at = now()
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS t (item_id, parent_item_id, name, remote_path)
WHERE i.drive_id = $1 AND i.remote_root = $2 AND i.onedrive_item_id = t.item_id
