INSERT INTO corporate.vmb_delta_links (drive_id, remote_root, delta_link)
VALUES ($1, $2, $3)
ON CONFLICT (drive_id, remote_root) DO UPDATE SET delta_link = EXCLUDED.delta_link, updated_at = now()
