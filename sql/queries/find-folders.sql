SELECT remote_path, onedrive_item_id
FROM corporate.vmb_items
WHERE drive_id = $1 AND remote_root = $2 AND remote_path = ANY($3::text[]) AND is_folder
