-- The pace the traffic governor had learned at the end of the latest run against this drive (any
-- import root: the budget is the app's, per tenant), if that run ended within the last $2 ms; the
-- next run starts from it instead of spending its first window in one burst.
SELECT (counts->>'learnedRatePerMinute')::float8 AS per_minute
FROM corporate.vmb_import_runs
WHERE drive_id = $1 AND finished_at > now() - make_interval(secs => $2 / 1000.0) AND (counts->>'learnedRatePerMinute')::float8 > 0
ORDER BY id DESC
LIMIT 1
