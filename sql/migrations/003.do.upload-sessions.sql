-- Upload sessions kept across runs (docs/graph-facts.md §9): a large upload that a run leaves
-- unfinished (--max-runtime, the grace after a signal, kill -9) is continued by the next run from
-- the bytes the server has, instead of from byte 0. One row per target path: written before the
-- first fragment, its progress updated every few seconds, deleted in the transaction that commits
-- the file's row in vmb_items, and when the session is abandoned.
--
-- upload_url carries its own credential (tempauth): it is kept here and nowhere else (not in
-- vmb_import_runs, vmb_import_failures, errors, logs or the summary).
CREATE TABLE corporate.vmb_upload_sessions (
  drive_id          text NOT NULL,
  remote_root       text NOT NULL,
  remote_path       text NOT NULL,
  source_path       text NOT NULL,
  parent_item_id    text NOT NULL,
  name              text NOT NULL,
  upload_url        text NOT NULL,
  -- What the server said, after the last fragment recorded here.
  expires_at        timestamptz NOT NULL,
  bytes_confirmed   bigint NOT NULL DEFAULT 0 CHECK (bytes_confirmed >= 0),
  -- The source file's fingerprint when the session was created: a resumed upload needs the same file.
  source_size       bigint NOT NULL,
  source_mtime_ns   bigint NOT NULL,
  source_ctime_ns   bigint NOT NULL,
  source_ino        numeric(20, 0) NOT NULL,
  source_dev        numeric(20, 0) NOT NULL,
  -- The run that last sent to it, i.e. the run that left it open.
  run_id            bigint NOT NULL REFERENCES corporate.vmb_import_runs (id),
  -- The session's creation: its upload URL dies about 24 h later whatever the progress.
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (drive_id, remote_root, remote_path)
);

CREATE INDEX vmb_upload_sessions_run_idx ON corporate.vmb_upload_sessions (run_id);
