DELETE FROM corporate.vmb_remote_items WHERE drive_id = $1 AND remote_root = $2 AND item_id = ANY ($3::text[])
