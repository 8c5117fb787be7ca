-- 001_schema.sql - the KOS-Order simulator's own database (kos_sim).
--
-- The simulated world is anchored on "today": seeded dates (activation,
-- contract start, device purchase, status changes, plan history, months
-- without a bill) are stored as a number of months before the current
-- month plus a day of month, and resolved at request time against the
-- program's clock (pb_clock_now_ms, KST).  The demo data therefore never
-- goes stale: demo01 always has 12+ months of bills and a running contract.
-- What the API changes (plan change orders, fault switches, counters, MVNO
-- deliveries) is stored with absolute dates.
--
-- Bills are not stored: phonebill-kos-sim computes them deterministically
-- from (line, month, plan in force that month); see docs/KOS-SIMULATOR.md.
--
-- utf8mb4 with utf8mb4_nopad_bin: exact comparisons (case and trailing
-- spaces count).  DATETIME columns hold UTC; DATE columns hold KST dates.
CREATE DATABASE IF NOT EXISTS kos_sim
	CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin;

-- --- reference data -----------------------------------------------------
CREATE TABLE IF NOT EXISTS kos_sim.operators (
	operator_code  VARCHAR(16)  NOT NULL,
	operator_name  VARCHAR(64)  NOT NULL,
	PRIMARY KEY (operator_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- Allowances: NULL means unlimited (the API says so explicitly with
-- "unlimited": true; it never sends -1 or "-1GB").
CREATE TABLE IF NOT EXISTS kos_sim.plans (
	plan_code      VARCHAR(32)   NOT NULL,
	plan_name      VARCHAR(100)  NOT NULL,
	operator_code  VARCHAR(16)   NOT NULL,
	network        VARCHAR(8)    NOT NULL COMMENT '5G or LTE',
	monthly_fee    INT UNSIGNED  NOT NULL COMMENT 'won, VAT excluded',
	data_mb        INT UNSIGNED  NULL COMMENT 'MB per month; NULL = unlimited',
	voice_min      INT UNSIGNED  NULL COMMENT 'minutes per month; NULL = unlimited',
	sms_count      INT UNSIGNED  NULL COMMENT 'messages per month; NULL = unlimited',
	throttle_kbps  INT UNSIGNED  NOT NULL DEFAULT 0 COMMENT 'speed after the data allowance; 0 = pay per MB',
	on_sale        TINYINT(1)    NOT NULL DEFAULT 1,
	sort_order     INT           NOT NULL DEFAULT 0,
	description    VARCHAR(255)  NOT NULL DEFAULT '',
	PRIMARY KEY (plan_code),
	KEY ix_plans_operator (operator_code, sort_order),
	CONSTRAINT fk_plans_operator FOREIGN KEY (operator_code)
		REFERENCES kos_sim.operators (operator_code),
	CONSTRAINT ck_plans_network CHECK (network IN ('5G', 'LTE'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE IF NOT EXISTS kos_sim.customers (
	customer_id    VARCHAR(16)   NOT NULL,
	customer_name  VARCHAR(64)   NOT NULL COMMENT 'test data; masked in every log',
	customer_type  VARCHAR(16)   NOT NULL DEFAULT 'PERSONAL',
	PRIMARY KEY (customer_id),
	CONSTRAINT ck_customers_type CHECK (customer_type IN ('PERSONAL', 'BUSINESS'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- One row per line.  plan_code is the plan in force today (changed by
-- orders); seed_plan_code is what POST /_sim/data/reset restores.
CREATE TABLE IF NOT EXISTS kos_sim.subscriber_lines (
	line_number          CHAR(11)          NOT NULL COMMENT '11 digits',
	customer_id          VARCHAR(16)       NOT NULL,
	operator_code        VARCHAR(16)       NOT NULL,
	plan_code            VARCHAR(32)       NULL COMMENT 'NULL: no plan registered (product inquiry 3003)',
	seed_plan_code       VARCHAR(32)       NULL,
	line_status          VARCHAR(16)       NOT NULL,
	activated_months_ago SMALLINT UNSIGNED NOT NULL,
	activated_day        TINYINT UNSIGNED  NOT NULL,
	status_months_ago    SMALLINT UNSIGNED NULL COMMENT 'when SUSPENDED/TERMINATED began',
	status_day           TINYINT UNSIGNED  NULL,
	status_reason        VARCHAR(64)       NULL,
	usage_profile        TINYINT UNSIGNED  NOT NULL DEFAULT 2 COMMENT '1 light .. 4 data-heavy',
	payment_method       VARCHAR(64)       NOT NULL,
	payment_day          TINYINT UNSIGNED  NOT NULL COMMENT 'due day of the month after the billing month',
	overdue_months       TINYINT UNSIGNED  NOT NULL DEFAULT 0 COMMENT 'newest N due bills are OVERDUE',
	family_discount      INT UNSIGNED      NOT NULL DEFAULT 0 COMMENT 'won per month',
	updated_at           DATETIME(3)       NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (line_number),
	KEY ix_subscriber_lines_customer (customer_id),
	CONSTRAINT fk_subscriber_lines_customer FOREIGN KEY (customer_id)
		REFERENCES kos_sim.customers (customer_id),
	CONSTRAINT fk_subscriber_lines_operator FOREIGN KEY (operator_code)
		REFERENCES kos_sim.operators (operator_code),
	CONSTRAINT fk_subscriber_lines_plan FOREIGN KEY (plan_code)
		REFERENCES kos_sim.plans (plan_code),
	CONSTRAINT ck_subscriber_lines_status CHECK (line_status IN ('ACTIVE', 'SUSPENDED', 'TERMINATED')),
	CONSTRAINT ck_subscriber_lines_number CHECK (line_number REGEXP '^[0-9]{11}$'),
	CONSTRAINT ck_subscriber_lines_days CHECK (activated_day BETWEEN 1 AND 31 AND payment_day BETWEEN 1 AND 28),
	CONSTRAINT ck_subscriber_lines_profile CHECK (usage_profile BETWEEN 1 AND 4)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- The seeded plan history: from (current month - months_ago, day) on, the
-- line was on plan_code.  The activation row is part of it.
CREATE TABLE IF NOT EXISTS kos_sim.seed_plan_history (
	line_number    CHAR(11)          NOT NULL,
	months_ago     SMALLINT UNSIGNED NOT NULL,
	day_of_month   TINYINT UNSIGNED  NOT NULL,
	plan_code      VARCHAR(32)       NOT NULL,
	PRIMARY KEY (line_number, months_ago),
	CONSTRAINT fk_seed_plan_history_line FOREIGN KEY (line_number)
		REFERENCES kos_sim.subscriber_lines (line_number) ON DELETE CASCADE,
	CONSTRAINT fk_seed_plan_history_plan FOREIGN KEY (plan_code)
		REFERENCES kos_sim.plans (plan_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- At most one contract per line.  The early-termination fee falls linearly
-- from etf_base at the start to 0 at the end.
CREATE TABLE IF NOT EXISTS kos_sim.contracts (
	line_number       CHAR(11)          NOT NULL,
	contract_type     VARCHAR(32)       NOT NULL COMMENT 'display, e.g. 24개월 약정',
	contract_kind     VARCHAR(16)       NOT NULL COMMENT 'SELECTIVE: 25 % off the base fee; SUBSIDY: device subsidy',
	term_months       TINYINT UNSIGNED  NOT NULL,
	start_months_ago  SMALLINT UNSIGNED NOT NULL,
	start_day         TINYINT UNSIGNED  NOT NULL,
	etf_base          INT UNSIGNED      NOT NULL COMMENT 'won at the first day',
	PRIMARY KEY (line_number),
	CONSTRAINT fk_contracts_line FOREIGN KEY (line_number)
		REFERENCES kos_sim.subscriber_lines (line_number) ON DELETE CASCADE,
	CONSTRAINT ck_contracts_kind CHECK (contract_kind IN ('SELECTIVE', 'SUBSIDY')),
	CONSTRAINT ck_contracts_term CHECK (term_months BETWEEN 1 AND 36)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- Device bought on instalments: one payment per month from the start month.
CREATE TABLE IF NOT EXISTS kos_sim.device_installments (
	line_number       CHAR(11)          NOT NULL,
	device_name       VARCHAR(64)       NOT NULL,
	device_price      INT UNSIGNED      NOT NULL COMMENT 'won, financed amount',
	term_months       TINYINT UNSIGNED  NOT NULL,
	start_months_ago  SMALLINT UNSIGNED NOT NULL,
	PRIMARY KEY (line_number),
	CONSTRAINT fk_device_installments_line FOREIGN KEY (line_number)
		REFERENCES kos_sim.subscriber_lines (line_number) ON DELETE CASCADE,
	CONSTRAINT ck_device_installments_term CHECK (term_months BETWEEN 1 AND 48)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- Value-added services billed every month.
CREATE TABLE IF NOT EXISTS kos_sim.line_services (
	line_number    CHAR(11)      NOT NULL,
	service_code   VARCHAR(16)   NOT NULL,
	service_name   VARCHAR(64)   NOT NULL,
	monthly_fee    INT UNSIGNED  NOT NULL COMMENT 'won',
	PRIMARY KEY (line_number, service_code),
	CONSTRAINT fk_line_services_line FOREIGN KEY (line_number)
		REFERENCES kos_sim.subscriber_lines (line_number) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- Months (relative to the current one) for which a line has no bill.
CREATE TABLE IF NOT EXISTS kos_sim.bill_gaps (
	line_number    CHAR(11)          NOT NULL,
	months_ago     SMALLINT UNSIGNED NOT NULL,
	reason         VARCHAR(64)       NOT NULL DEFAULT '',
	PRIMARY KEY (line_number, months_ago),
	CONSTRAINT fk_bill_gaps_line FOREIGN KEY (line_number)
		REFERENCES kos_sim.subscriber_lines (line_number) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- --- written by the API -------------------------------------------------
-- Every product change request, successful or not, keyed by its requestId:
-- a repeated requestId is answered from response_json and changes nothing.
CREATE TABLE IF NOT EXISTS kos_sim.change_orders (
	id                    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	request_id            VARCHAR(64)     NOT NULL,
	line_number           CHAR(11)        NOT NULL,
	current_product_code  VARCHAR(64)     NOT NULL COMMENT 'as sent by the client',
	target_product_code   VARCHAR(64)     NOT NULL,
	previous_plan_code    VARCHAR(32)     NULL COMMENT 'the line''s real plan before the order',
	result_code           CHAR(4)         NULL COMMENT 'NULL while the order is being processed',
	success               TINYINT(1)      NOT NULL DEFAULT 0,
	order_no              VARCHAR(32)     NULL,
	effective_on          DATE            NULL COMMENT 'KST; successful orders only',
	response_json         MEDIUMTEXT      NULL COMMENT 'resultCode, resultMessage and data as first answered',
	created_at            DATETIME(3)     NOT NULL COMMENT 'UTC',
	PRIMARY KEY (id),
	UNIQUE KEY uk_change_orders_request_id (request_id),
	UNIQUE KEY uk_change_orders_order_no (order_no),
	KEY ix_change_orders_line (line_number, success, effective_on)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- Fault switches, shared by every simulator process.  operation is one of
-- bill.inquiry, bill.months, product.inquiry, product.list, product.change,
-- mvno, or '*' (any operation without its own row).
CREATE TABLE IF NOT EXISTS kos_sim.sim_faults (
	operation       VARCHAR(32)   NOT NULL,
	mode            VARCHAR(16)   NOT NULL DEFAULT 'none',
	error_rate_ppm  INT UNSIGNED  NOT NULL DEFAULT 1000000 COMMENT 'probability of mode, parts per million',
	latency_ms      INT UNSIGNED  NOT NULL DEFAULT 0,
	latency_min_ms  INT UNSIGNED  NOT NULL DEFAULT 0 COMMENT 'random extra latency, uniform in [min, max]',
	latency_max_ms  INT UNSIGNED  NOT NULL DEFAULT 0,
	hang_ms         INT UNSIGNED  NOT NULL DEFAULT 30000,
	remaining       INT UNSIGNED  NULL COMMENT 'calls left before the fault switches itself off; NULL = until reset',
	location        VARCHAR(512)  NOT NULL DEFAULT '',
	oversized_bytes INT UNSIGNED  NOT NULL DEFAULT 5242880,
	updated_at      DATETIME(3)   NOT NULL COMMENT 'UTC',
	PRIMARY KEY (operation),
	CONSTRAINT ck_sim_faults_mode CHECK (mode IN ('none', 'http500', 'http503',
		'hang', 'garbage', 'truncated', 'oversized', 'redirect', 'error9999')),
	CONSTRAINT ck_sim_faults_rate CHECK (error_rate_ppm <= 1000000),
	CONSTRAINT ck_sim_faults_latency CHECK (latency_min_ms <= latency_max_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- Per-operation counters (UPDATE ... SET calls = calls + 1).
CREATE TABLE IF NOT EXISTS kos_sim.sim_stats (
	operation      VARCHAR(32)      NOT NULL,
	calls          BIGINT UNSIGNED  NOT NULL DEFAULT 0,
	faults         BIGINT UNSIGNED  NOT NULL DEFAULT 0 COMMENT 'calls answered by a fault mode',
	delayed_calls  BIGINT UNSIGNED  NOT NULL DEFAULT 0 COMMENT 'calls given injected latency',
	last_call_at   DATETIME(3)      NULL COMMENT 'UTC',
	PRIMARY KEY (operation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

INSERT IGNORE INTO kos_sim.sim_stats (operation) VALUES
	('bill.inquiry'), ('bill.months'), ('product.inquiry'),
	('product.list'), ('product.change'), ('mvno');

-- Notifications received by the MVNO AP stand-in.  A retried delivery (same
-- de-duplication key) is stored once; delivery_count counts the attempts.
CREATE TABLE IF NOT EXISTS kos_sim.mvno_deliveries (
	id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	dedup_key        VARCHAR(200)    NOT NULL COMMENT 'idem:<Idempotency-Key> | req:<eventType>:<requestId> | sha256:<body>',
	idempotency_key  VARCHAR(128)    NULL,
	event_type       VARCHAR(64)     NULL,
	request_id       VARCHAR(128)    NULL,
	signature_ts     BIGINT          NOT NULL COMMENT 'X-Timestamp, unix s',
	body             MEDIUMTEXT      NOT NULL COMMENT 'raw JSON as received',
	received_at      DATETIME(3)     NOT NULL COMMENT 'UTC, first delivery',
	last_received_at DATETIME(3)     NOT NULL COMMENT 'UTC, latest delivery',
	delivery_count   INT UNSIGNED    NOT NULL DEFAULT 1,
	PRIMARY KEY (id),
	UNIQUE KEY uk_mvno_deliveries_dedup (dedup_key),
	KEY ix_mvno_deliveries_request (request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
