-- 005_product_change_outbox.sql - what the product service records about a
-- plan change (UFR-PROD-040) and its MVNO AP outbox.
--
-- A change writes its REQUESTED row before KOS is called (a crash
-- mid-change leaves a visible, recoverable record) and completes it after;
-- the status operation or the background worker resolves a row whose
-- outcome is unknown (KOS timed out after the order was sent) by asking
-- KOS again with the same requestId, which KOS de-duplicates.  Plan names
-- are kept so the history needs no second lookup.  Times UTC.

ALTER TABLE phonebill_product.product_change_history
	ADD COLUMN IF NOT EXISTS customer_id          VARCHAR(64)   NOT NULL DEFAULT '' AFTER user_id,
	ADD COLUMN IF NOT EXISTS current_product_name VARCHAR(128)  NULL AFTER current_product_code,
	ADD COLUMN IF NOT EXISTS target_product_name  VARCHAR(128)  NULL AFTER target_product_code,
	ADD COLUMN IF NOT EXISTS error_code           VARCHAR(64)   NULL AFTER result_message,
	ADD COLUMN IF NOT EXISTS next_check_at        DATETIME(3)   NULL COMMENT 'REQUESTED rows: when the worker asks KOS again',
	ADD COLUMN IF NOT EXISTS resolving_until      DATETIME(3)   NULL COMMENT 'REQUESTED rows: someone is asking KOS until then',
	ADD COLUMN IF NOT EXISTS kos_order_no         VARCHAR(64)   NULL,
	ADD COLUMN IF NOT EXISTS effective_date       DATE          NULL,
	ADD COLUMN IF NOT EXISTS breaker_state        VARCHAR(16)   NULL,
	ADD COLUMN IF NOT EXISTS kos_attempts         INT UNSIGNED  NOT NULL DEFAULT 0 COMMENT 'KOS change calls for this request',
	ADD COLUMN IF NOT EXISTS kos_latency_ms       INT UNSIGNED  NULL,
	ADD COLUMN IF NOT EXISTS kos_failure          VARCHAR(16)   NULL,
	ADD COLUMN IF NOT EXISTS mvno_payload_enc     MEDIUMBLOB    NULL COMMENT 'AEAD(JSON sent to the MVNO AP); NULL once delivered',
	ADD COLUMN IF NOT EXISTS mvno_next_at         DATETIME(3)   NULL,
	ADD COLUMN IF NOT EXISTS mvno_last_error      VARCHAR(64)   NULL,
	ADD KEY IF NOT EXISTS ix_product_change_history_mvno (mvno_next_at),
	ADD KEY IF NOT EXISTS ix_product_change_history_user (user_id, requested_at),
	ADD KEY IF NOT EXISTS ix_product_change_history_pending (status, next_check_at);

CREATE TABLE IF NOT EXISTS phonebill_product.mvno_delivery_attempts (
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
