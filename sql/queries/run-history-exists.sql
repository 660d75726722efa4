SELECT to_regclass('corporate.vmb_import_runs') IS NOT NULL
   AND to_regclass('corporate.vmb_import_failures') IS NOT NULL AS ready
