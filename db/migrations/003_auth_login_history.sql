-- 003_auth_login_history.sql - every login attempt (UFR-AUTH-010): success,
-- failure, lock, rate limit.  Written by phonebill-auth after the response.
-- user_id is the canonical id as typed (it may name no account); the client
-- address is masked (last IPv4 octet / IPv6 beyond /48 dropped); no
-- password, token or line number is ever stored here.  Times are UTC.
CREATE TABLE IF NOT EXISTS phonebill_auth.login_history (
	id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	request_id     VARCHAR(64)     NOT NULL COMMENT 'X-Request-ID of the login',
	user_id        VARCHAR(64)     NOT NULL COMMENT 'canonical id as typed',
	result         VARCHAR(16)     NOT NULL,
	reason         VARCHAR(64)     NULL,
	client_masked  VARCHAR(64)     NOT NULL DEFAULT '',
	user_agent     VARCHAR(128)    NOT NULL DEFAULT '',
	created_at     DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY ix_login_history_user (user_id, result, created_at),
	KEY ix_login_history_request (request_id),
	CONSTRAINT ck_login_history_result
		CHECK (result IN ('SUCCESS', 'FAILURE', 'LOCKED', 'RATE_LIMITED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
