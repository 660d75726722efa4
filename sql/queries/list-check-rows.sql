-- Every row of one drive and remote root, as the check compares them with the drive.
SELECT onedrive_item_id, parent_item_id, name, remote_path, is_folder, size_bytes, content_hash, child_count, source_path
FROM corporate.vmb_items
WHERE drive_id = $1 AND remote_root = $2
