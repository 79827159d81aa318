-- Fills a database that `dinex-tracking serve` has just created (its own migrations, production
-- schema: src/store/sqlite/sqlite_store.cpp) with :packages packages of 10 events each, in one
-- transaction, in primary-key order. Run by bench/scale through the sqlite3 CLI with the
-- parameters .parameter set :packages N and :now MILLISECONDS.
-- Package p: tracking id S<p, 9 digits>, events 1..10 an hour apart ending one hour before :now,
-- statuses INFO_RECEIVED, PICKED_UP, IN_TRANSIT x6, OUT_FOR_DELIVERY, DELIVERY_FAILED (the current
-- state: not terminal), event ids 26 characters like the service's ULIDs, expiry 30 days after
-- the last change (so no package is expired or swept during the run).
PRAGMA journal_mode = DELETE;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -524288;
BEGIN;
WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < :packages)
INSERT INTO packages (tracking_id, status, location, notes, latitude, longitude, timestamp, event_id,
                      created_at, updated_at, expires_at, event_count)
SELECT printf('S%09d', n), 'DELIVERY_FAILED', 'Lima', NULL, -12.046374, -77.042793,
       :now - 3600000, printf('01BENCH%09d%010d', n, 10),
       :now - 10 * 3600000, :now - 3600000, :now - 3600000 + 30 * 86400000, 10
FROM p;
WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < :packages),
               e(i, status) AS (VALUES (1, 'INFO_RECEIVED'), (2, 'PICKED_UP'), (3, 'IN_TRANSIT'),
                                       (4, 'IN_TRANSIT'), (5, 'IN_TRANSIT'), (6, 'IN_TRANSIT'),
                                       (7, 'IN_TRANSIT'), (8, 'IN_TRANSIT'), (9, 'OUT_FOR_DELIVERY'),
                                       (10, 'DELIVERY_FAILED'))
INSERT INTO events (tracking_id, timestamp, event_id, status, location, received_at, description,
                    notes, latitude, longitude)
SELECT printf('S%09d', n), :now - (11 - i) * 3600000, printf('01BENCH%09d%010d', n, i), status, 'Lima',
       :now - (11 - i) * 3600000, 'Scanned at the Lima hub', NULL, -12.046374, -77.042793
FROM p, e ORDER BY 1, 2, 3;
COMMIT;
