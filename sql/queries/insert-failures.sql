INSERT INTO corporate.vmb_import_failures (run_id, source_path, stage, error_code, message)
SELECT $1, f.source_path, f.stage, f.error_code, f.message
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS f(source_path, stage, error_code, message)
