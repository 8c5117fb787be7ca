-- 004_bill_history_outbox.sql - what the bill service records about each
-- inquiry (UFR-BILL-040) and the MVNO AP delivery outbox.
--
-- bill_request_history: the request (who, which line, which month) and the
-- answer we gave; the MVNO payload is kept sealed (it names the line) until
-- the MVNO AP acknowledges it.  bill_process_history: how it was processed
-- (cache, KOS request/response times, result, breaker state, latency).
-- mvno_delivery_attempts: one row per delivery attempt, for either service.
-- Rows are written after the response; a write that fails is spooled and
-- replayed later, so every insert is idempotent on request_id.  Times UTC.

ALTER TABLE phonebill_bill.bill_request_history
	ADD COLUMN IF NOT EXISTS customer_id       VARCHAR(64)   NOT NULL DEFAULT '' AFTER user_id,
	ADD COLUMN IF NOT EXISTS error_code        VARCHAR(64)   NULL AFTER result_message,
	ADD COLUMN IF NOT EXISTS result_summary    VARCHAR(256)  NULL AFTER error_code,
	ADD COLUMN IF NOT EXISTS mvno_payload_enc  MEDIUMBLOB    NULL COMMENT 'AEAD(JSON sent to the MVNO AP); NULL once delivered',
	ADD COLUMN IF NOT EXISTS mvno_next_at      DATETIME(3)   NULL COMMENT 'next delivery attempt; NULL: nothing to deliver',
	ADD COLUMN IF NOT EXISTS mvno_last_error   VARCHAR(64)   NULL,
	ADD KEY IF NOT EXISTS ix_bill_request_history_mvno (mvno_next_at),
	ADD KEY IF NOT EXISTS ix_bill_request_history_user_status (user_id, status, requested_at);

ALTER TABLE phonebill_bill.bill_process_history
	ADD COLUMN IF NOT EXISTS kos_result_message VARCHAR(512) NULL AFTER kos_result_code,
	ADD COLUMN IF NOT EXISTS kos_requested_at   DATETIME(3)  NULL,
	ADD COLUMN IF NOT EXISTS kos_responded_at   DATETIME(3)  NULL,
	ADD COLUMN IF NOT EXISTS kos_latency_ms     INT UNSIGNED NULL,
	ADD COLUMN IF NOT EXISTS kos_attempts       INT UNSIGNED NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS kos_failure        VARCHAR(16)  NULL COMMENT 'open, transport, timeout, http_error, garbage, toobig',
	ADD COLUMN IF NOT EXISTS stale_served       TINYINT(1)   NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS phonebill_bill.mvno_delivery_attempts (
	id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	request_id   VARCHAR(64)     NOT NULL,
	attempt      INT UNSIGNED    NOT NULL,
	attempted_at DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	http_status  INT UNSIGNED    NOT NULL DEFAULT 0,
	elapsed_ms   INT UNSIGNED    NOT NULL DEFAULT 0,
	outcome      VARCHAR(16)     NOT NULL COMMENT 'ACKNOWLEDGED, FAILED',
	error        VARCHAR(64)     NULL,
	PRIMARY KEY (id),
	UNIQUE KEY uk_mvno_delivery_attempts (request_id, attempt),
	CONSTRAINT ck_mvno_delivery_attempts_outcome CHECK (outcome IN ('ACKNOWLEDGED', 'FAILED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
