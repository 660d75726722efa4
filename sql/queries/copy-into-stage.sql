COPY pg_temp.vmb_stage (corp_index, drive_id, remote_root, onedrive_item_id, parent_item_id, name, remote_path,
                        size_bytes, content_hash, local_hash, source_path, source_size, source_mtime, import_run_id)
FROM STDIN
