-- `vmb-import check` (src/check/): the run history tells imports from checks, and the drive's
-- listing is kept between checks so that the next check asks Graph only for what changed.
ALTER TABLE corporate.vmb_import_runs
  ADD COLUMN kind text NOT NULL DEFAULT 'import' CHECK (kind IN ('import', 'check')),
  -- A check reads the source tree only when it is given one.
  ALTER COLUMN import_root DROP NOT NULL,
  ADD CONSTRAINT vmb_import_runs_import_has_root CHECK (kind = 'check' OR import_root IS NOT NULL);

-- The drive's items as the last check listed them, per drive and remote root. The whole drive,
-- not only what is below the remote root: an incremental delta lists a folder that moved in from
-- elsewhere but not its descendants, which only an earlier listing of the whole drive holds.
-- Which items are below the remote root is decided by their ancestors when comparing.
CREATE TABLE corporate.vmb_remote_items (
  drive_id        text NOT NULL,
  remote_root     text NOT NULL,
  item_id         text NOT NULL,
  -- NULL only for the drive's root.
  parent_item_id  text,
  name            text NOT NULL,
  is_folder       boolean NOT NULL,
  size_bytes      bigint,
  content_hash    text,
  child_count     integer,
  PRIMARY KEY (drive_id, remote_root, item_id)
);

-- The deltaLink that continues the listing above, written in the transaction that writes the
-- listing, so the two never disagree.
CREATE TABLE corporate.vmb_delta_links (
  drive_id     text NOT NULL,
  remote_root  text NOT NULL,
  delta_link   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (drive_id, remote_root)
);
