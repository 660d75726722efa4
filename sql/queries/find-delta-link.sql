SELECT delta_link FROM corporate.vmb_delta_links WHERE drive_id = $1 AND remote_root = $2
