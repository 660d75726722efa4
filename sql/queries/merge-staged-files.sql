-- Merge one group-commit batch of file rows and bump the child_count of their folders, in one
-- statement. Counts are increments of what this statement really inserted (xmax = 0), applied to
-- committed folder rows that are locked in id order: exact under READ COMMITTED at any thread
-- count, idempotent when a batch is retried, and free of lock-order deadlocks.
--
-- $1 is the distinct parent item ids of the batch. The CTEs alone would be planned from guesses (a
-- never-analysed temp table, ~110 rows per CTE), which made the planner hash-join against a
-- sequential scan of the whole ledger for a batch with two parents: every batch read every row,
-- and the database's work per file grew with the size of the ledger. With the ids as a parameter
-- it plans one index probe per parent.
WITH merged AS (
  INSERT INTO corporate.vmb_items AS i
    (corp_index, drive_id, remote_root, onedrive_item_id, parent_item_id, name, remote_path, is_folder,
     size_bytes, content_hash, local_hash, source_path, source_size, source_mtime, import_run_id)
  SELECT corp_index, drive_id, remote_root, onedrive_item_id, parent_item_id, name, remote_path, false,
         size_bytes, content_hash, local_hash, source_path, source_size, source_mtime, import_run_id
  FROM pg_temp.vmb_stage
  ORDER BY remote_path
  ON CONFLICT (drive_id, remote_root, remote_path) DO UPDATE SET
    onedrive_item_id = EXCLUDED.onedrive_item_id,
    parent_item_id   = EXCLUDED.parent_item_id,
    name             = EXCLUDED.name,
    size_bytes       = EXCLUDED.size_bytes,
    content_hash     = EXCLUDED.content_hash,
    local_hash       = EXCLUDED.local_hash,
    source_path      = EXCLUDED.source_path,
    source_size      = EXCLUDED.source_size,
    source_mtime     = EXCLUDED.source_mtime,
    import_run_id    = EXCLUDED.import_run_id,
    updated_at       = now()
  RETURNING i.parent_item_id, (i.xmax = 0) AS inserted
),
added AS (
  SELECT parent_item_id, count(*)::int AS n FROM merged WHERE inserted GROUP BY parent_item_id
),
locked AS (
  SELECT p.id, a.n
  FROM corporate.vmb_items p JOIN added a ON p.onedrive_item_id = a.parent_item_id
  WHERE p.onedrive_item_id = ANY ($1::text[])
  ORDER BY p.id
  FOR UPDATE OF p
),
bumped AS (
  UPDATE corporate.vmb_items p
  SET child_count = p.child_count + locked.n, updated_at = now()
  FROM locked WHERE p.id = locked.id AND p.onedrive_item_id = ANY ($1::text[])
  RETURNING p.id
)
SELECT (SELECT count(*) FROM merged)::int           AS merged,
       (SELECT count(*) FROM merged WHERE inserted)::int AS inserted,
       (SELECT count(*) FROM added)::int            AS parents,
       (SELECT count(*) FROM bumped)::int           AS parents_bumped
