-- 006_handoff_dead_letters.sql - history through phonebill-worker.
--
-- Login history is now written by phonebill-worker from the durable
-- hand-off (a Redis Stream), which delivers at least once: event_id (a
-- random id the auth service gives each attempt) makes a replay change
-- nothing.  The MVNO outboxes get a dead-letter state: a delivery the MVNO
-- AP did not acknowledge after mvno.max_attempts is set aside
-- (mvno_next_at NULL, mvno_dead_at set) until an operator requeues it
-- (README).  mvno_claim marks the rows one worker pass leased in bulk.
-- Times UTC.

ALTER TABLE phonebill_auth.login_history
	ADD COLUMN IF NOT EXISTS event_id VARCHAR(40) NULL COMMENT 'idempotency of the hand-off' AFTER request_id,
	ADD UNIQUE KEY IF NOT EXISTS uk_login_history_event (event_id);

ALTER TABLE phonebill_bill.bill_request_history
	ADD COLUMN IF NOT EXISTS mvno_dead_at DATETIME(3) NULL COMMENT 'delivery given up (dead letter)',
	ADD COLUMN IF NOT EXISTS mvno_claim VARCHAR(64) NULL COMMENT 'the worker pass that leased the due delivery',
	ADD KEY IF NOT EXISTS ix_bill_request_history_dead (mvno_dead_at),
	ADD KEY IF NOT EXISTS ix_bill_request_history_claim (mvno_claim);

ALTER TABLE phonebill_product.product_change_history
	ADD COLUMN IF NOT EXISTS mvno_dead_at DATETIME(3) NULL COMMENT 'delivery given up (dead letter)',
	ADD COLUMN IF NOT EXISTS mvno_claim VARCHAR(64) NULL COMMENT 'the worker pass that leased the due delivery',
	ADD KEY IF NOT EXISTS ix_product_change_history_dead (mvno_dead_at),
	ADD KEY IF NOT EXISTS ix_product_change_history_claim (mvno_claim);
