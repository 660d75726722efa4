-- Per-connection staging table for group commit: rows are COPYed in, merged, and vanish at COMMIT.
CREATE TEMP TABLE IF NOT EXISTS vmb_stage (
  corp_index        integer,
  drive_id          text,
  remote_root       text,
  onedrive_item_id  text,
  parent_item_id    text,
  name              text,
  remote_path       text,
  size_bytes        bigint,
  content_hash      text,
  local_hash        text,
  source_path       text,
  source_size       bigint,
  source_mtime      timestamptz,
  import_run_id     bigint
) ON COMMIT DELETE ROWS
