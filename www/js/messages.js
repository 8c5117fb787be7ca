// messages.js - every sentence the UI shows for a failure, in Korean, keyed
// by the error `code` of docs/API.md (then by HTTP status, then a default).
// The server's own `message`/`details` are never shown: they may be
// English, technical or KOS's wording.  No DOM here, so the e2e tests can
// import this table and check the screens against it.

export const CODE_TEXT = {
  VALIDATION_ERROR: '입력한 내용을 다시 확인해주세요.',
  AUTH_001: 'ID 또는 비밀번호를 확인해주세요',
  AUTH_002: '5회 연속 실패하여 30분간 계정이 잠금되었습니다.',
  AUTH_003: '계정이 잠금되었습니다. 30분 후 다시 시도해주세요.',
  TOKEN_EXPIRED: '로그인 시간이 만료되었습니다. 다시 로그인해주세요.',
  TOKEN_INVALID: '로그인 정보가 올바르지 않습니다. 다시 로그인해주세요.',
  REFRESH_TOKEN_INVALID: '로그인 시간이 만료되었습니다. 다시 로그인해주세요.',
  UNAUTHORIZED: '로그인이 필요합니다.',
  FORBIDDEN: '서비스 이용 권한이 없습니다',
  NOT_FOUND: '요청한 정보를 찾을 수 없습니다.',
  BILL_NOT_FOUND: '해당 월의 청구 내역이 없습니다.',
  USER_NOT_FOUND: '회원 정보를 찾을 수 없습니다. 고객센터로 문의해주세요.',
  METHOD_NOT_ALLOWED: '처리할 수 없는 요청입니다. 화면을 새로 고친 뒤 다시 시도해주세요.',
  PRECHECK_FAILED: '상품 사전 체크에 실패하였습니다',
  CHANGE_REJECTED: '통신사에서 요금제 변경을 처리하지 않았습니다.',
  PAYLOAD_TOO_LARGE: '보낸 내용이 너무 큽니다. 화면을 새로 고친 뒤 다시 시도해주세요.',
  UNSUPPORTED_MEDIA_TYPE: '처리할 수 없는 요청 형식입니다. 화면을 새로 고친 뒤 다시 시도해주세요.',
  RATE_LIMITED: '요청이 너무 많습니다. 잠시 후 다시 시도해주세요.',
  UPSTREAM_INVALID: '통신사 시스템의 응답을 처리하지 못했습니다. 잠시 후 다시 시도해주세요.',
  SERVICE_UNAVAILABLE: '일시적으로 서비스 이용이 어렵습니다. 잠시 후 다시 시도해주세요.',
  INTERNAL_SERVER_ERROR: '일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.',
  // the client's own
  NETWORK: '서버에 연결할 수 없습니다. 네트워크 상태를 확인해주세요.',
  TIMEOUT: '응답이 지연되고 있습니다. 잠시 후 다시 시도해주세요.',
  BAD_RESPONSE: '서버 응답을 처리할 수 없습니다. 잠시 후 다시 시도해주세요.',
};

// A code the table does not know (a newer server): by HTTP status.
export const STATUS_TEXT = {
  400: CODE_TEXT.VALIDATION_ERROR,
  401: CODE_TEXT.UNAUTHORIZED,
  403: CODE_TEXT.FORBIDDEN,
  404: CODE_TEXT.NOT_FOUND,
  405: CODE_TEXT.METHOD_NOT_ALLOWED,
  409: '요청을 처리할 수 없는 상태입니다. 처음부터 다시 시도해주세요.',
  413: CODE_TEXT.PAYLOAD_TOO_LARGE,
  415: CODE_TEXT.UNSUPPORTED_MEDIA_TYPE,
  429: CODE_TEXT.RATE_LIMITED,
  502: CODE_TEXT.UPSTREAM_INVALID,
  503: CODE_TEXT.SERVICE_UNAVAILABLE,
};

export const DEFAULT_TEXT = '요청을 처리하지 못했습니다. 잠시 후 다시 시도해주세요.';

/** The Korean sentence for an error code and HTTP status. */
export function errorText(code, status) {
  if (code && Object.prototype.hasOwnProperty.call(CODE_TEXT, code)) return CODE_TEXT[code];
  if (status && STATUS_TEXT[status]) return STATUS_TEXT[status];
  if (status >= 500) return CODE_TEXT.INTERNAL_SERVER_ERROR;
  return DEFAULT_TEXT;
}

// KOS's change refusals (resultCode 20xx) and pre-check items, our words.
export const KOS_CHANGE_TEXT = {
  2001: '회선 정보를 찾을 수 없습니다.',
  2002: '이용정지 또는 해지된 회선이라 요금제를 변경할 수 없습니다.',
  2003: '선택한 요금제를 찾을 수 없습니다.',
  2004: '선택한 요금제는 지금 판매하지 않습니다.',
  2005: '다른 통신사의 요금제로는 변경할 수 없습니다.',
  2099: '통신사 시스템에서 변경을 완료하지 못했습니다.',
};

export const CHECK_TEXT = {
  PRODUCT_AVAILABLE: { PASS: '판매 중인 요금제입니다.', FAIL: '지금 판매하지 않는 요금제입니다.' },
  OPERATOR_MATCH: { PASS: '같은 사업자의 요금제입니다.', FAIL: '다른 사업자의 요금제로는 변경할 수 없습니다.' },
  LINE_STATUS: { PASS: '회선이 정상 이용 중입니다.', FAIL: '회선이 이용정지 또는 해지 상태라 변경할 수 없습니다.' },
};
