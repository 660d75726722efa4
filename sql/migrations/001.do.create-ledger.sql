-- The ledger: every item uploaded by vmb-import, folders included, plus run history and failures.
CREATE SCHEMA IF NOT EXISTS corporate;

CREATE TABLE corporate.vmb_import_runs (
  id              bigserial PRIMARY KEY,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  status          text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'partial', 'interrupted')),
  dry_run         boolean NOT NULL DEFAULT false,
  import_root     text NOT NULL,
  drive_id        text NOT NULL,
  remote_root     text NOT NULL,
  options         jsonb NOT NULL DEFAULT '{}'::jsonb,
  counts          jsonb NOT NULL DEFAULT '{}'::jsonb,
  host            text NOT NULL,
  pid             integer NOT NULL,
  vmb_version     text NOT NULL
);

CREATE TABLE corporate.vmb_items (
  id                bigserial PRIMARY KEY,
  corp_index        integer NOT NULL,
  drive_id          text NOT NULL,
  remote_root       text NOT NULL,
  onedrive_item_id  text NOT NULL UNIQUE,
  -- NULL only for a corp's root folder.
  parent_item_id    text,
  name              text NOT NULL,
  remote_path       text NOT NULL,
  is_folder         boolean NOT NULL,
  size_bytes        bigint,
  -- What the drive reports (quickXorHash, base64); local_hash is what we read and sent. They differ
  -- legitimately where SharePoint rewrites a file after upload.
  content_hash      text,
  local_hash        text,
  source_path       text,
  source_size       bigint,
  source_mtime      timestamptz,
  child_count       integer NOT NULL DEFAULT 0 CHECK (child_count >= 0),
  import_run_id     bigint REFERENCES corporate.vmb_import_runs (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT vmb_items_remote_path_key UNIQUE (drive_id, remote_root, remote_path),
  CONSTRAINT vmb_items_root_has_no_parent CHECK ((parent_item_id IS NULL) = (is_folder AND position('/' IN remote_path) = 0))
);

CREATE INDEX vmb_items_parent_idx ON corporate.vmb_items (parent_item_id);

CREATE TABLE corporate.vmb_import_failures (
  id             bigserial PRIMARY KEY,
  run_id         bigint NOT NULL REFERENCES corporate.vmb_import_runs (id) ON DELETE CASCADE,
  source_path    text NOT NULL,
  stage          text NOT NULL,
  error_code     text NOT NULL,
  message        text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX vmb_import_failures_run_idx ON corporate.vmb_import_failures (run_id);
