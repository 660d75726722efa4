SELECT to_regclass('corporate.vmb_import_runs') IS NOT NULL
   AND to_regclass('corporate.vmb_import_failures') IS NOT NULL AS ready,
       -- A ledger that an older vmb-import migrated has no sessions table yet.
       to_regclass('corporate.vmb_upload_sessions') IS NOT NULL AS sessions
