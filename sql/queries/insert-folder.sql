-- Record one folder and bump its parent's child_count, only if this statement inserted it.
-- Runs in its own transaction so the folder row is committed before any child refers to it.
-- No conflict target: two threads creating the same folder at once can collide on either unique
-- index (path or item id), and both collisions mean "it exists already".
WITH ins AS (
  INSERT INTO corporate.vmb_items
    (corp_index, drive_id, remote_root, onedrive_item_id, parent_item_id, name, remote_path, is_folder, source_path, import_run_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8, $9)
  ON CONFLICT DO NOTHING
  RETURNING onedrive_item_id, parent_item_id
),
bumped AS (
  UPDATE corporate.vmb_items p
  SET child_count = p.child_count + 1, updated_at = now()
  FROM ins WHERE p.onedrive_item_id = ins.parent_item_id
  RETURNING p.id
)
SELECT ins.onedrive_item_id, (ins.parent_item_id IS NULL OR EXISTS (SELECT 1 FROM bumped)) AS parent_bumped
FROM ins
