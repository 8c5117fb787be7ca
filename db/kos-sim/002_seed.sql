-- 002_seed.sql - deterministic test data for the KOS-Order simulator.
--
-- All names are invented test data.  Dates are "months before the current
-- month" + day of month (see 001_schema.sql), so the same rows describe
-- the same situation whenever they are read.  INSERT IGNORE: re-running
-- the seed never overwrites what the API changed (use POST /_sim/data/reset
-- to restore the seeded plans).
--
-- Demo users of the auth service (docs/KOS-SIMULATOR.md):
--   demo01 -> 010-1234-5678  ACTIVE, 5G 프리미엄, 24개월 약정, device instalment,
--                            bills for the last 15 months (incl. this one)
--   demo02 -> 010-2345-6789  ACTIVE, LTE 스탠다드 6GB, no contract
--   demo03 -> 010-3456-7890  SUSPENDED (unpaid), LTE, contract + device
-- Lines reserved for the integration tests (plan changes):
--   010-9999-0000, 010-9999-0001

-- --- operators and plans ------------------------------------------------
INSERT IGNORE INTO kos_sim.operators (operator_code, operator_name) VALUES
	('MVNO001', '폰빌모바일'),
	('MVNO002', '한빛텔레콤');

INSERT IGNORE INTO kos_sim.plans (plan_code, plan_name, operator_code, network,
	monthly_fee, data_mb, voice_min, sms_count, throttle_kbps, on_sale,
	sort_order, description) VALUES
	('5G-PREMIUM-001',    '5G 프리미엄',           'MVNO001', '5G',  89000, NULL,   NULL, NULL,    0, 1, 10, '데이터·음성·문자 모두 무제한'),
	('5G-STANDARD-001',   '5G 스탠다드',           'MVNO001', '5G',  69000, 112640, NULL, NULL, 5000, 1, 20, '110GB, 소진 후 5Mbps 속도 제한'),
	('5G-SLIM-001',       '5G 슬림',               'MVNO001', '5G',  55000, 11264,  NULL, NULL, 1000, 1, 30, '11GB, 소진 후 1Mbps 속도 제한'),
	('5G-YOUTH-001',      '5G 청년',               'MVNO001', '5G',  49000, 30720,  NULL, NULL, 1000, 1, 40, '만 34세 이하 전용, 30GB'),
	('LTE-UNLIMITED-001', 'LTE 데이터 무제한',     'MVNO001', 'LTE', 59000, NULL,   NULL, NULL,    0, 1, 50, '데이터·음성·문자 모두 무제한'),
	('LTE-DATA-001',      'LTE 데이터 15GB',       'MVNO001', 'LTE', 39600, 15360,  NULL, NULL, 3000, 1, 60, '15GB, 소진 후 3Mbps 속도 제한'),
	('LTE-STANDARD-001',  'LTE 스탠다드 6GB',      'MVNO001', 'LTE', 33000, 6144,   NULL, NULL,    0, 1, 70, '6GB, 초과 시 MB당 22원 (월 상한 30,000원)'),
	('LTE-BASIC-001',     'LTE 베이직 2GB',        'MVNO001', 'LTE', 22000, 2048,   300,  100,     0, 1, 80, '음성 300분, 문자 100건'),
	('LTE-SENIOR-001',    'LTE 실버',              'MVNO001', 'LTE', 16500, 1024,   200,  50,      0, 1, 85, '만 65세 이상 전용'),
	('5G-SUPER-OLD',      '5G 슈퍼플랜 (판매종료)', 'MVNO001', '5G',  99000, NULL,   NULL, NULL,    0, 0, 90, '신규 가입 불가, 기존 가입자 유지'),
	('LTE-SAVER-OLD',     'LTE 알뜰 (판매종료)',    'MVNO001', 'LTE', 19800, 3072,   100,  100,     0, 0, 95, '신규 가입 불가'),
	('MV2-5G-BASIC',      '한빛 5G 베이직',        'MVNO002', '5G',  45000, 8192,   NULL, NULL, 1000, 1, 10, '한빛텔레콤 전용'),
	('MV2-LTE-SAVE',      '한빛 LTE 알뜰',         'MVNO002', 'LTE', 14900, 3072,   100,  100,     0, 1, 20, '한빛텔레콤 전용');

-- --- customers ----------------------------------------------------------
INSERT IGNORE INTO kos_sim.customers (customer_id, customer_name, customer_type) VALUES
	('C0001', '김민준', 'PERSONAL'),
	('C0002', '이서연', 'PERSONAL'),
	('C0003', '박지훈', 'PERSONAL'),
	('C0004', '최수아', 'PERSONAL'),
	('C0005', '정도윤', 'PERSONAL'),
	('C0006', '강하은', 'PERSONAL'),
	('C0007', '조예준', 'PERSONAL'),
	('C0008', '윤지우', 'PERSONAL'),
	('C0009', '장서윤', 'PERSONAL'),
	('C0010', '임하준', 'PERSONAL'),
	('C0011', '한지민', 'PERSONAL'),
	('C0012', '오승우', 'PERSONAL'),
	('C0013', '서유나', 'PERSONAL'),
	('C0014', '신동현', 'PERSONAL'),
	('C0015', '권나은', 'PERSONAL'),
	('C0016', '황민서', 'PERSONAL'),
	('C0017', '안준호', 'PERSONAL'),
	('C0018', '송채원', 'PERSONAL'),
	('C0019', '류시우', 'PERSONAL'),
	('C0020', '전하린', 'PERSONAL'),
	('C0021', '홍길동', 'PERSONAL'),
	('C0022', '한빛물산(주)', 'BUSINESS');

-- --- lines --------------------------------------------------------------
INSERT IGNORE INTO kos_sim.subscriber_lines (line_number, customer_id, operator_code,
	plan_code, seed_plan_code, line_status, activated_months_ago,
	activated_day, status_months_ago, status_day, status_reason,
	usage_profile, payment_method, payment_day, overdue_months,
	family_discount) VALUES
	-- demo01: 5G, 24-month contract since the device change 10 months ago
	('01012345678', 'C0001', 'MVNO001', '5G-PREMIUM-001',    '5G-PREMIUM-001',    'ACTIVE',     14, 15, NULL, NULL, NULL,              3, '자동이체 (국민은행)',    25, 0, 0),
	('01012345679', 'C0001', 'MVNO001', 'LTE-BASIC-001',     'LTE-BASIC-001',     'ACTIVE',     14, 15, NULL, NULL, NULL,              3, '자동이체 (국민은행)',    25, 0, 3300),
	-- demo02: LTE, no contract, pay-per-MB data over 6GB
	('01023456789', 'C0002', 'MVNO001', 'LTE-STANDARD-001',  'LTE-STANDARD-001',  'ACTIVE',     30,  3, NULL, NULL, NULL,              2, '신용카드 (신한카드)',    21, 0, 5500),
	-- demo03: suspended for non-payment two months ago
	('01034567890', 'C0003', 'MVNO001', 'LTE-UNLIMITED-001', 'LTE-UNLIMITED-001', 'SUSPENDED',  20,  8,    2,   12, '요금 미납 이용정지', 3, '지로',                   25, 2, 0),
	('01045678901', 'C0004', 'MVNO001', '5G-SLIM-001',       '5G-SLIM-001',       'ACTIVE',      5, 20, NULL, NULL, NULL,              2, '자동이체 (우리은행)',    25, 0, 0),
	('01056789012', 'C0005', 'MVNO001', 'LTE-BASIC-001',     'LTE-BASIC-001',     'ACTIVE',     40, 11, NULL, NULL, NULL,              1, '신용카드 (KB국민카드)',  15, 0, 0),
	('01067890123', 'C0006', 'MVNO001', '5G-STANDARD-001',   '5G-STANDARD-001',   'TERMINATED', 18,  2,    3,   27, '고객 요청 해지',     2, '자동이체 (하나은행)',    25, 0, 0),
	('01078901234', 'C0007', 'MVNO001', '5G-SUPER-OLD',      '5G-SUPER-OLD',      'ACTIVE',     36,  9, NULL, NULL, NULL,              4, '신용카드 (현대카드)',    21, 0, 0),
	('01089012345', 'C0008', 'MVNO002', 'MV2-5G-BASIC',      'MV2-5G-BASIC',      'ACTIVE',      9, 14, NULL, NULL, NULL,              2, '자동이체 (농협은행)',    25, 0, 0),
	('01090123456', 'C0009', 'MVNO001', 'LTE-SENIOR-001',    'LTE-SENIOR-001',    'ACTIVE',     60,  1, NULL, NULL, NULL,              1, '지로',                   20, 0, 0),
	('01011112222', 'C0010', 'MVNO001', '5G-YOUTH-001',      '5G-YOUTH-001',      'ACTIVE',      8,  6, NULL, NULL, NULL,              4, '신용카드 (삼성카드)',    21, 0, 0),
	('01022223333', 'C0011', 'MVNO001', 'LTE-DATA-001',      'LTE-DATA-001',      'ACTIVE',     26, 17, NULL, NULL, NULL,              3, '자동이체 (신한은행)',    25, 0, 0),
	('01033334444', 'C0012', 'MVNO001', '5G-STANDARD-001',   '5G-STANDARD-001',   'SUSPENDED',  12, 23,    1,    5, '분실 정지',          2, '자동이체 (기업은행)',    25, 0, 0),
	('01044445555', 'C0013', 'MVNO001', 'LTE-UNLIMITED-001', 'LTE-UNLIMITED-001', 'ACTIVE',      3,  9, NULL, NULL, NULL,              3, '신용카드 (롯데카드)',    21, 0, 0),
	('01055556666', 'C0014', 'MVNO001', 'LTE-BASIC-001',     'LTE-BASIC-001',     'TERMINATED', 50, 30,   10,   15, '번호이동 해지',      1, '지로',                   25, 0, 0),
	('01066667777', 'C0015', 'MVNO001', '5G-PREMIUM-001',    '5G-PREMIUM-001',    'ACTIVE',     22, 19, NULL, NULL, NULL,              3, '신용카드 (우리카드)',    21, 1, 0),
	('01077778888', 'C0016', 'MVNO001', 'LTE-STANDARD-001',  'LTE-STANDARD-001',  'ACTIVE',     19,  4, NULL, NULL, NULL,              2, '자동이체 (카카오뱅크)',  25, 0, 0),
	('01088889999', 'C0017', 'MVNO002', 'MV2-LTE-SAVE',      'MV2-LTE-SAVE',      'ACTIVE',     15, 25, NULL, NULL, NULL,              1, '지로',                   25, 0, 0),
	-- reserved for the integration tests (plan changes)
	('01099990000', 'C0018', 'MVNO001', '5G-STANDARD-001',   '5G-STANDARD-001',   'ACTIVE',     16, 12, NULL, NULL, NULL,              2, '자동이체 (국민은행)',    25, 0, 0),
	('01099990001', 'C0019', 'MVNO001', 'LTE-STANDARD-001',  'LTE-STANDARD-001',  'ACTIVE',     16, 12, NULL, NULL, NULL,              2, '신용카드 (신한카드)',    21, 0, 0),
	('01099990002', 'C0020', 'MVNO001', '5G-SLIM-001',       '5G-SLIM-001',       'ACTIVE',      1, 10, NULL, NULL, NULL,              2, '자동이체 (토스뱅크)',    25, 0, 0),
	-- a line without a registered plan (product inquiry 3003, no bills)
	('01099990003', 'C0021', 'MVNO001', NULL,                NULL,                'ACTIVE',      2,  1, NULL, NULL, NULL,              1, '지로',                   25, 0, 0),
	('01011110000', 'C0022', 'MVNO001', '5G-STANDARD-001',   '5G-STANDARD-001',   'ACTIVE',     28,  1, NULL, NULL, NULL,              4, '계좌이체',               10, 0, 0);

-- --- plan history (the activation row, then seeded changes) -------------
INSERT IGNORE INTO kos_sim.seed_plan_history (line_number, months_ago,
	day_of_month, plan_code) VALUES
	('01012345678', 14, 15, '5G-STANDARD-001'),
	('01012345678', 10, 15, '5G-PREMIUM-001'),
	('01012345679', 14, 15, 'LTE-BASIC-001'),
	('01023456789', 30,  3, 'LTE-BASIC-001'),
	('01023456789', 13,  9, 'LTE-STANDARD-001'),
	('01034567890', 20,  8, 'LTE-UNLIMITED-001'),
	('01045678901',  5, 20, '5G-SLIM-001'),
	('01056789012', 40, 11, 'LTE-SAVER-OLD'),
	('01056789012', 16,  2, 'LTE-BASIC-001'),
	('01067890123', 18,  2, '5G-STANDARD-001'),
	('01078901234', 36,  9, '5G-SUPER-OLD'),
	('01089012345',  9, 14, 'MV2-5G-BASIC'),
	('01090123456', 60,  1, 'LTE-SENIOR-001'),
	('01011112222',  8,  6, '5G-YOUTH-001'),
	('01022223333', 26, 17, 'LTE-DATA-001'),
	('01033334444', 12, 23, '5G-STANDARD-001'),
	('01044445555',  3,  9, 'LTE-UNLIMITED-001'),
	('01055556666', 50, 30, 'LTE-BASIC-001'),
	('01066667777', 22, 19, '5G-STANDARD-001'),
	('01066667777',  7,  1, '5G-PREMIUM-001'),
	('01077778888', 19,  4, 'LTE-STANDARD-001'),
	('01088889999', 15, 25, 'MV2-LTE-SAVE'),
	('01099990000', 16, 12, '5G-STANDARD-001'),
	('01099990001', 16, 12, 'LTE-STANDARD-001'),
	('01099990002',  1, 10, '5G-SLIM-001'),
	('01011110000', 28,  1, '5G-STANDARD-001');

-- --- contracts ----------------------------------------------------------
INSERT IGNORE INTO kos_sim.contracts (line_number, contract_type,
	contract_kind, term_months, start_months_ago, start_day, etf_base) VALUES
	('01012345678', '24개월 약정', 'SELECTIVE', 24, 10, 15, 320000),
	('01034567890', '24개월 약정', 'SUBSIDY',   24, 20,  8, 240000),
	('01045678901', '24개월 약정', 'SELECTIVE', 24,  5, 20, 198000),
	('01011112222', '12개월 약정', 'SELECTIVE', 12,  8,  6,  88000),
	('01022223333', '24개월 약정', 'SUBSIDY',   24, 26, 17, 220000),
	('01033334444', '24개월 약정', 'SELECTIVE', 24, 12, 23, 276000),
	('01066667777', '24개월 약정', 'SUBSIDY',   24, 22, 19, 300000),
	('01067890123', '24개월 약정', 'SELECTIVE', 24, 18,  2, 248000),
	('01099990000', '24개월 약정', 'SELECTIVE', 24, 16, 12, 248000);

-- --- device instalments -------------------------------------------------
INSERT IGNORE INTO kos_sim.device_installments (line_number, device_name,
	device_price, term_months, start_months_ago) VALUES
	('01012345678', 'Galaxy S25 Ultra 256GB', 1698400, 24, 10),
	('01034567890', 'iPhone 15 128GB',        1250000, 24, 20),
	('01045678901', 'Galaxy S24 FE',           946000, 24,  5),
	('01011112222', 'Galaxy A35',              499400, 24,  8),
	('01022223333', 'Galaxy S22',              999900, 24, 26),
	('01033334444', 'Galaxy Z Flip6',         1485000, 24, 12),
	('01066667777', 'iPhone 16 Pro 256GB',    1705000, 24, 22);

-- --- value-added services -----------------------------------------------
INSERT IGNORE INTO kos_sim.line_services (line_number, service_code,
	service_name, monthly_fee) VALUES
	('01012345678', 'COLORING', 'V컬러링',           3300),
	('01012345678', 'CLOUD',    '클라우드 100GB',    2200),
	('01023456789', 'MUSIC',    '지니뮤직',          7900),
	('01034567890', 'COLORING', 'V컬러링',           3300),
	('01066667777', 'OTT',      'OTT 팩 (티빙)',     9500),
	('01066667777', 'COLORING', 'V컬러링',           3300),
	('01078901234', 'INSURE',   '휴대폰 분실보험',   5500),
	('01011110000', 'SECURE',   '업무용 보안 서비스', 4400);

-- --- months without a bill ----------------------------------------------
INSERT IGNORE INTO kos_sim.bill_gaps (line_number, months_ago, reason) VALUES
	('01056789012', 3, '해외 체류 일시정지'),
	('01056789012', 4, '해외 체류 일시정지'),
	('01077778888', 6, '청구 보류');
