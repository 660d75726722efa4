-- check --fix: the rows of items gone from the drive, so the next import uploads them again.
DELETE FROM corporate.vmb_items
WHERE drive_id = $1 AND remote_root = $2 AND onedrive_item_id = ANY ($3::text[])
