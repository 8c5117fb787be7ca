-- 003_calendar_line.sql - a line whose seeded days do not exist in every
-- month, for the calendar tests (tests/integration/test_calendar.py):
-- activated and contracted on the 31st (clamped to the month's last day
-- in short months), a 13-month contract so that it starts and ends in
-- months of different lengths.  Reserved for the tests; no demo user.
INSERT IGNORE INTO kos_sim.customers (customer_id, customer_name, customer_type) VALUES
	('C0023', '윤달력', 'PERSONAL');

INSERT IGNORE INTO kos_sim.subscriber_lines (line_number, customer_id, operator_code,
	plan_code, seed_plan_code, line_status, activated_months_ago,
	activated_day, status_months_ago, status_day, status_reason,
	usage_profile, payment_method, payment_day, overdue_months,
	family_discount) VALUES
	('01099990004', 'C0023', 'MVNO001', 'LTE-STANDARD-001', 'LTE-STANDARD-001', 'ACTIVE', 10, 31, NULL, NULL, NULL, 2, '자동이체 (국민은행)', 25, 0, 0);

INSERT IGNORE INTO kos_sim.seed_plan_history (line_number, months_ago,
	day_of_month, plan_code) VALUES
	('01099990004', 10, 31, 'LTE-STANDARD-001');

INSERT IGNORE INTO kos_sim.contracts (line_number, contract_type,
	contract_kind, term_months, start_months_ago, start_day, etf_base) VALUES
	('01099990004', '13개월 약정', 'SELECTIVE', 13, 10, 31, 130000);
