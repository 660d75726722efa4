-- In the group commit's transaction: the sessions of the files whose rows it merges are done.
-- The paths as a parameter, so that it probes the primary key (as the merge does its parents).
DELETE FROM corporate.vmb_upload_sessions
WHERE drive_id = $1 AND remote_root = $2 AND remote_path = ANY ($3::text[])
