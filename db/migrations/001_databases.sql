-- 001_databases.sql - one database per service.
-- utf8mb4 with utf8mb4_nopad_bin: comparisons and unique keys are exact (case
-- and trailing spaces count), so 'Kim' and 'kim ' never collide or match by
-- accident.  Identifiers (user ids, request ids) are canonicalised in code
-- (lower-case, trimmed) before they reach SQL.
-- All DATETIME columns hold UTC (the server runs with time_zone '+00:00').
CREATE DATABASE IF NOT EXISTS phonebill_auth
	CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin;
CREATE DATABASE IF NOT EXISTS phonebill_bill
	CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin;
CREATE DATABASE IF NOT EXISTS phonebill_product
	CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin;
