-- At the start of a run: forget the sessions of this drive that are surely gone (expired, or with
-- an upload URL about to die: its token lives ~24 h from creation, docs/graph-facts.md §9), and
-- list the target paths of the others, whose files the run will try to resume.
WITH dead AS (
  DELETE FROM corporate.vmb_upload_sessions
  WHERE drive_id = $1 AND remote_root = $2 AND (expires_at <= now() OR created_at <= now() - make_interval(secs => $3 / 1000.0))
  RETURNING remote_path
)
SELECT remote_path FROM corporate.vmb_upload_sessions
WHERE drive_id = $1 AND remote_root = $2 AND remote_path NOT IN (SELECT remote_path FROM dead)
