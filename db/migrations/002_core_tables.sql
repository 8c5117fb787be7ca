-- 002_core_tables.sql - the first tables; later migrations extend them.
-- Personal data (line number, name) is stored encrypted (XChaCha20-Poly1305:
-- nonce || ciphertext || tag) with an HMAC-SHA256 blind index for lookups.
-- Times are UTC.

-- --- auth ---------------------------------------------------------------
CREATE TABLE IF NOT EXISTS phonebill_auth.users (
	id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id          VARCHAR(64)     NOT NULL COMMENT 'login id, canonical (lower-case, trimmed)',
	customer_id      VARCHAR(64)     NOT NULL,
	line_number_enc  VARBINARY(128)  NOT NULL COMMENT 'AEAD(line number, 11 digits)',
	line_number_bidx BINARY(32)      NOT NULL COMMENT 'HMAC-SHA256 blind index of the line number',
	name_enc         VARBINARY(512)  NOT NULL COMMENT 'AEAD(name)',
	password_hash    VARCHAR(255)    NOT NULL COMMENT 'crypto_pwhash_str (Argon2id)',
	status           VARCHAR(16)     NOT NULL DEFAULT 'ACTIVE',
	created_at       DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at       DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY uk_users_user_id (user_id),
	KEY ix_users_line_number_bidx (line_number_bidx),
	KEY ix_users_customer_id (customer_id),
	CONSTRAINT ck_users_status CHECK (status IN ('ACTIVE', 'INACTIVE', 'SUSPENDED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE IF NOT EXISTS phonebill_auth.user_permissions (
	user_ref    BIGINT UNSIGNED NOT NULL COMMENT 'users.id',
	permission  VARCHAR(32)     NOT NULL COMMENT 'BILL_INQUIRY, PRODUCT_CHANGE',
	granted_at  DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (user_ref, permission),
	CONSTRAINT fk_user_permissions_user FOREIGN KEY (user_ref)
		REFERENCES phonebill_auth.users (id) ON DELETE CASCADE,
	CONSTRAINT ck_user_permissions_permission
		CHECK (permission IN ('BILL_INQUIRY', 'PRODUCT_CHANGE'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- --- bill ---------------------------------------------------------------
-- One row per bill inquiry request (what was asked, what was answered).
CREATE TABLE IF NOT EXISTS phonebill_bill.bill_request_history (
	id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	request_id        VARCHAR(64)     NOT NULL COMMENT 'our requestId; de-duplicates spool replays',
	user_id           VARCHAR(64)     NOT NULL,
	line_number_enc   VARBINARY(128)  NOT NULL,
	line_number_bidx  BINARY(32)      NOT NULL,
	billing_month     CHAR(7)         NOT NULL COMMENT 'YYYY-MM',
	status            VARCHAR(16)     NOT NULL COMMENT 'REQUESTED, COMPLETED, FAILED',
	result_code       VARCHAR(16)     NULL COMMENT 'KOS resultCode',
	result_message    VARCHAR(512)    NULL,
	response_json     MEDIUMBLOB      NULL COMMENT 'the result as answered (for GET /bills/inquiry/{id})',
	requested_at      DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	completed_at      DATETIME(3)     NULL,
	mvno_delivered_at DATETIME(3)     NULL,
	mvno_attempts     INT UNSIGNED    NOT NULL DEFAULT 0,
	PRIMARY KEY (id),
	UNIQUE KEY uk_bill_request_history_request_id (request_id),
	KEY ix_bill_request_history_user (user_id, requested_at),
	KEY ix_bill_request_history_line (line_number_bidx, billing_month)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- How the request was processed (cache, KOS call, timings).
CREATE TABLE IF NOT EXISTS phonebill_bill.bill_process_history (
	id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	request_id       VARCHAR(64)     NOT NULL,
	cache_hit        TINYINT(1)      NOT NULL DEFAULT 0,
	kos_called       TINYINT(1)      NOT NULL DEFAULT 0,
	kos_trace_id     VARCHAR(64)     NULL,
	kos_result_code  VARCHAR(16)     NULL,
	breaker_state    VARCHAR(16)     NULL,
	status           VARCHAR(16)     NOT NULL,
	elapsed_ms       INT UNSIGNED    NOT NULL DEFAULT 0,
	error_code       VARCHAR(64)     NULL,
	created_at       DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY uk_bill_process_history_request_id (request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

-- --- product ------------------------------------------------------------
-- A plan change: REQUESTED is written before KOS is called and updated after.
CREATE TABLE IF NOT EXISTS phonebill_product.product_change_history (
	id                    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	request_id            VARCHAR(64)     NOT NULL,
	user_id               VARCHAR(64)     NOT NULL,
	idempotency_key       VARCHAR(128)    NULL COMMENT 'Idempotency-Key header, per user',
	line_number_enc       VARBINARY(128)  NOT NULL,
	line_number_bidx      BINARY(32)      NOT NULL,
	current_product_code  VARCHAR(32)     NOT NULL,
	target_product_code   VARCHAR(32)     NOT NULL,
	status                VARCHAR(16)     NOT NULL COMMENT 'REQUESTED, COMPLETED, FAILED',
	result_code           VARCHAR(16)     NULL,
	result_message        VARCHAR(512)    NULL,
	kos_trace_id          VARCHAR(64)     NULL,
	response_json         MEDIUMBLOB      NULL,
	requested_at          DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	completed_at          DATETIME(3)     NULL,
	mvno_delivered_at     DATETIME(3)     NULL,
	mvno_attempts         INT UNSIGNED    NOT NULL DEFAULT 0,
	PRIMARY KEY (id),
	UNIQUE KEY uk_product_change_history_request_id (request_id),
	UNIQUE KEY uk_product_change_history_idem (user_id, idempotency_key),
	KEY ix_product_change_history_line (line_number_bidx, requested_at),
	CONSTRAINT ck_product_change_history_status
		CHECK (status IN ('REQUESTED', 'COMPLETED', 'FAILED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
