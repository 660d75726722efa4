-- Before a full enumeration's listing replaces the stored one.
DELETE FROM corporate.vmb_remote_items WHERE drive_id = $1 AND remote_root = $2
