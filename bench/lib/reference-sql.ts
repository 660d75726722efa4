/** The reference importer's own table (schema `reference`), and the check of its child counts. */
export const REFERENCE_DDL = `
CREATE SCHEMA IF NOT EXISTS reference;
CREATE TABLE IF NOT EXISTS reference.vmb_items (
  id                bigserial PRIMARY KEY,
  corp_index        integer NOT NULL,
  drive_id          text NOT NULL,
  remote_root       text NOT NULL,
  onedrive_item_id  text NOT NULL UNIQUE,
  parent_item_id    text,
  name              text NOT NULL,
  remote_path       text NOT NULL,
  is_folder         boolean NOT NULL,
  size_bytes        bigint,
  content_hash      text,
  local_hash        text,
  source_path       text,
  source_size       bigint,
  source_mtime      timestamptz,
  child_count       integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (drive_id, remote_root, remote_path)
);
CREATE INDEX IF NOT EXISTS reference_items_parent_idx ON reference.vmb_items (parent_item_id);`;

/** Folders whose child_count differs from their real number of child rows. */
export const REFERENCE_CHECK = `
SELECT count(*)::int AS wrong, coalesce(sum(abs(real - p.child_count)), 0)::int AS off_by, count(*) FILTER (WHERE real > p.child_count)::int AS under
FROM reference.vmb_items p
CROSS JOIN LATERAL (SELECT count(*)::int AS real FROM reference.vmb_items c WHERE c.parent_item_id = p.onedrive_item_id) r
WHERE p.is_folder AND p.child_count <> r.real`;

