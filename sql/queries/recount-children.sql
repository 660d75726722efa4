-- check --fix: these folders' child_count from the rows whose parent they are, after rows moved
-- or went; counted, not adjusted, so the result is exact whatever the counts were before.
UPDATE corporate.vmb_items p
SET child_count = (SELECT count(*) FROM corporate.vmb_items c WHERE c.parent_item_id = p.onedrive_item_id)::int, updated_at = now()
WHERE p.drive_id = $1 AND p.remote_root = $2 AND p.is_folder AND p.onedrive_item_id = ANY ($3::text[])
