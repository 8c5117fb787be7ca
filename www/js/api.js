// api.js - the web UI's only way to the server: /api/v1 of our own origin.
//
// - Every answer is the envelope of docs/API.md: {success, message, data} or
//   {success:false, error:{code, message, details, timestamp}}.  A failure
//   becomes an ApiError whose message is Korean text fit for the screen.
// - Tokens live in sessionStorage (gone when the tab closes); with
//   "auto-login" the refresh token is also kept in localStorage so that a new
//   tab can start a session from it.  Logout clears all of it.
// - 401 TOKEN_EXPIRED: one refresh, then the call is repeated once.  The
//   server refuses a second refresh with the same refresh token (and treats
//   it as a stolen token), so every caller shares one in-flight refresh.
// - The shape helpers at the end (normalise*) take what the services send and
//   return what the screens use; small differences in field names are
//   absorbed there and nowhere else.

const BASE = '/api/v1';
const KEY_ACCESS = 'pb.accessToken';
const KEY_REFRESH = 'pb.refreshToken';
const KEY_USER = 'pb.user';
const KEY_AUTO = 'pb.autoRefreshToken';
const TIMEOUT_MS = 15000;

// Korean text per error code, used when the server sent none.
const CODE_TEXT = {
  AUTH_001: 'ID 또는 비밀번호를 확인해주세요',
  AUTH_002: '5회 연속 실패하여 30분간 계정이 잠금되었습니다.',
  AUTH_003: '계정이 잠금되었습니다. 30분 후 다시 시도해주세요.',
  TOKEN_EXPIRED: '로그인 시간이 만료되었습니다. 다시 로그인해주세요.',
  TOKEN_INVALID: '로그인이 필요합니다. 다시 로그인해주세요.',
  REFRESH_TOKEN_INVALID: '로그인 시간이 만료되었습니다. 다시 로그인해주세요.',
  UNAUTHORIZED: '로그인이 필요합니다.',
  FORBIDDEN: '서비스 이용 권한이 없습니다',
  NOT_FOUND: '요청한 정보를 찾을 수 없습니다.',
  BILL_NOT_FOUND: '해당 월의 청구 내역이 없습니다.',
  USER_NOT_FOUND: '사용자 정보를 찾을 수 없습니다.',
  VALIDATION_ERROR: '입력 값이 올바르지 않습니다.',
  PRECHECK_FAILED: '상품 사전 체크에 실패하였습니다',
  CHANGE_REJECTED: '상품 변경이 거절되었습니다.',
  RATE_LIMITED: '요청이 너무 많습니다. 잠시 후 다시 시도해주세요.',
  SERVICE_UNAVAILABLE: '일시적으로 서비스 이용이 어렵습니다',
  UPSTREAM_INVALID: '일시적으로 서비스 이용이 어렵습니다',
  INTERNAL_SERVER_ERROR: '서버 오류가 발생했습니다. 잠시 후 다시 시도해주세요.',
  NETWORK: '서버에 연결할 수 없습니다. 네트워크 상태를 확인해주세요.',
  TIMEOUT: '응답이 지연되고 있습니다. 잠시 후 다시 시도해주세요.',
  BAD_RESPONSE: '서버 응답을 처리할 수 없습니다. 잠시 후 다시 시도해주세요.',
};

const HANGUL = /[\uac00-\ud7a3]/;

export class ApiError extends Error {
  constructor({ status = 0, code = 'INTERNAL_SERVER_ERROR', message, details, retryAfter, body }) {
    const text = message && HANGUL.test(message) ? message : CODE_TEXT[code] || CODE_TEXT.INTERNAL_SERVER_ERROR;
    super(text);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = typeof details === 'string' ? details : details == null ? '' : JSON.stringify(details);
    this.retryAfter = retryAfter;
    this.body = body || null;
  }
}

// --- session -------------------------------------------------------------

const listeners = new Set();
/** fn(reason) is called when the session ends without the user asking. */
export function onSessionLost(fn) { listeners.add(fn); }

function store() { return window.sessionStorage; }

export function getUser() {
  try { return JSON.parse(store().getItem(KEY_USER) || 'null'); } catch { return null; }
}
function setUser(u) { store().setItem(KEY_USER, JSON.stringify(u)); }
export function isLoggedIn() { return !!store().getItem(KEY_ACCESS) && !!getUser(); }
function accessToken() { return store().getItem(KEY_ACCESS); }

function saveTokens(d) {
  if (d.accessToken) store().setItem(KEY_ACCESS, d.accessToken);
  if (d.refreshToken) {
    store().setItem(KEY_REFRESH, d.refreshToken);
    if (window.localStorage.getItem(KEY_AUTO)) window.localStorage.setItem(KEY_AUTO, d.refreshToken);
  }
}

/** Forget everything this client knows about the user. */
export function clearSession() {
  for (const k of [KEY_ACCESS, KEY_REFRESH, KEY_USER]) store().removeItem(k);
  window.localStorage.removeItem(KEY_AUTO);
  refreshing = null;
}

function lose(reason) {
  clearSession();
  for (const fn of listeners) {
    try { fn(reason); } catch { /* a listener's problem is not ours */ }
  }
}

// --- transport -----------------------------------------------------------

async function send(method, path, { body, token, headers } = {}) {
  const h = { Accept: 'application/json', ...(headers || {}) };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (token) h.Authorization = `Bearer ${token}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: ctl.signal,
    });
  } catch (e) {
    throw new ApiError({ code: e && e.name === 'AbortError' ? 'TIMEOUT' : 'NETWORK' });
  } finally {
    clearTimeout(timer);
  }
  let json = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  const retryAfter = res.headers.get('Retry-After') || undefined;
  if (json && json.success === true && res.ok) return { status: res.status, message: json.message || '', data: json.data ?? {} };
  const err = json && typeof json.error === 'object' && json.error ? json.error : null;
  if (err) {
    throw new ApiError({
      status: res.status,
      code: err.code || 'INTERNAL_SERVER_ERROR',
      message: err.message,
      details: err.details ?? err.detail,
      retryAfter,
      body: json,
    });
  }
  const code = res.status === 404 ? 'NOT_FOUND' : res.status === 503 ? 'SERVICE_UNAVAILABLE'
    : res.status === 403 ? 'FORBIDDEN' : res.status === 401 ? 'UNAUTHORIZED'
    : res.ok ? 'BAD_RESPONSE' : 'INTERNAL_SERVER_ERROR';
  throw new ApiError({ status: res.status, code, retryAfter, body: json });
}

// One refresh at a time, shared by every caller that met TOKEN_EXPIRED.
let refreshing = null;

function refreshTokens() {
  if (refreshing) return refreshing;
  const rt = store().getItem(KEY_REFRESH);
  if (!rt) return Promise.reject(new ApiError({ status: 401, code: 'REFRESH_TOKEN_INVALID' }));
  const p = send('POST', '/auth/refresh', { body: { refreshToken: rt } })
    .then((r) => { saveTokens(r.data); return r.data.accessToken; });
  refreshing = p;
  // Clear the slot only once it settled, and only if it is still ours.
  p.finally(() => { if (refreshing === p) refreshing = null; }).catch(() => {});
  return p;
}

/**
 * An authenticated call.  Resolves to {status, message, data}; rejects with
 * ApiError.  A session that cannot be saved ends (onSessionLost listeners).
 */
export async function call(method, path, opts = {}) {
  const token = accessToken();
  if (!token) {
    lose('UNAUTHORIZED');
    throw new ApiError({ status: 401, code: 'UNAUTHORIZED' });
  }
  try {
    return await send(method, path, { ...opts, token });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    if (e.code !== 'TOKEN_EXPIRED') {
      lose(e.code);
      throw e;
    }
  }
  // TOKEN_EXPIRED.  If another caller refreshed meanwhile, use its token.
  let fresh = accessToken();
  if (!fresh || fresh === token) {
    try {
      fresh = await refreshTokens();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 400)) {
        lose('REFRESH_TOKEN_INVALID');
        throw new ApiError({ status: 401, code: 'REFRESH_TOKEN_INVALID' });
      }
      throw e;
    }
  }
  try {
    return await send(method, path, { ...opts, token: fresh });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) lose(e.code);
    throw e;
  }
}

// --- auth ------------------------------------------------------------------

/** Parse "남은 시도 횟수: 4회" (or a number anywhere) out of AUTH_001 details. */
export function remainingAttempts(err) {
  if (!err || err.code !== 'AUTH_001') return null;
  const body = err.body && err.body.error;
  if (body && Number.isInteger(body.remainingAttempts)) return body.remainingAttempts;
  const m = /(\d+)\s*회/.exec(err.details || '') || /(\d+)/.exec(err.details || '');
  return m ? Number(m[1]) : null;
}

export async function login(userId, password, autoLogin) {
  const r = await send('POST', '/auth/login', { body: { userId, password, autoLogin: !!autoLogin } });
  clearSession();
  if (autoLogin && r.data.refreshToken) window.localStorage.setItem(KEY_AUTO, r.data.refreshToken);
  saveTokens(r.data);
  setUser(normaliseUser(r.data.user || {}));
  return getUser();
}

/** With auto-login: start a session in a new tab from the kept refresh token. */
export async function resumeAutoLogin() {
  const rt = window.localStorage.getItem(KEY_AUTO);
  if (!rt || isLoggedIn()) return false;
  store().setItem(KEY_REFRESH, rt);
  try {
    const token = await refreshTokens();
    const v = await send('GET', '/auth/user-info', { token });
    setUser(normaliseUser(v.data));
    return true;
  } catch {
    clearSession();
    return false;
  }
}

export async function logout() {
  const token = accessToken();
  clearSession();
  if (token) {
    try { await send('POST', '/auth/logout', { token }); } catch { /* the client side is cleared anyway */ }
  }
}

/** User info and granted permissions (two calls, made together). */
export async function loadUser() {
  const [info, perms] = await Promise.all([call('GET', '/auth/user-info'), call('GET', '/auth/permissions')]);
  const user = normaliseUser(info.data);
  const list = Array.isArray(perms.data.permissions) ? perms.data.permissions : [];
  user.permissions = list
    .filter((p) => (typeof p === 'string' ? true : p && p.granted !== false))
    .map((p) => (typeof p === 'string' ? p : p.permission));
  setUser(user);
  return user;
}

function normaliseUser(u) {
  return {
    userId: u.userId || '',
    userName: u.userName || u.customerName || '',
    lineNumber: formatLine(u.phoneNumber || u.lineNumber || ''),
    permissions: Array.isArray(u.permissions) ? u.permissions.map((p) => (typeof p === 'string' ? p : p.permission)) : [],
  };
}

// --- bills -------------------------------------------------------------------

export async function billMenu() {
  const d = (await call('GET', '/bills/menu')).data;
  const ci = d.customerInfo || {};
  const months = (Array.isArray(d.availableMonths) ? d.availableMonths : []).map(toMonth).filter(Boolean);
  months.sort().reverse();
  const current = toMonth(d.currentMonth) || months[0] || '';
  return {
    customerId: ci.customerId || d.customerId || '',
    lineNumber: formatLine(ci.lineNumber || d.lineNumber || ''),
    months,
    currentMonth: current,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function billInquiry(lineNumber, month) {
  const body = { lineNumber };
  if (month) body.inquiryMonth = month;
  let d = (await call('POST', '/bills/inquiry', { body })).data;
  // A queued inquiry (202 PROCESSING): ask for the stored result a few times.
  for (let i = 0; d.status === 'PROCESSING' && i < 10; i++) {
    await sleep(1000);
    d = (await call('GET', `/bills/inquiry/${encodeURIComponent(d.requestId)}`)).data;
  }
  if (d.status === 'PROCESSING') throw new ApiError({ code: 'TIMEOUT' });
  if (d.status === 'FAILED' || !d.billInfo) {
    throw new ApiError({ code: 'BAD_RESPONSE', message: d.errorMessage || '요금 조회 신청에 실패하였습니다' });
  }
  return normaliseBill(d);
}

function amount(v) {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  if (v && typeof v === 'object') {
    for (const k of ['remainingAmount', 'amount', 'earlyTerminationFee']) if (k in v) return amount(v[k]);
  }
  return null;
}

function usageText(v) {
  if (v == null) return '';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return v.display || '';
}

function contractText(c) {
  if (!c) return '';
  if (typeof c === 'string') return c;
  if (c.status === 'NONE') return '약정 없음';
  const parts = [c.contractType || (c.termMonths ? `${c.termMonths}개월 약정` : '약정')];
  if (c.status === 'EXPIRED') parts.push('(만료)');
  else if (Number.isInteger(c.remainingMonths)) parts.push(`(잔여 ${c.remainingMonths}개월)`);
  return parts.join(' ');
}

function items(list) {
  return (Array.isArray(list) ? list : [])
    .map((x) => ({ name: String(x.name || x.discountName || x.code || ''), amount: amount(x.amount) }))
    .filter((x) => x.name);
}

export function normaliseBill(d) {
  const b = d.billInfo || {};
  const pay = b.paymentInfo || {};
  const discounts = items(b.discountInfo || b.discounts);
  const device = b.deviceInstallment;
  return {
    requestId: d.requestId || '',
    stale: d.stale === true,
    cachedAt: d.cachedAt || '',
    productName: b.productName || '',
    contract: contractText(b.contractInfo),
    billingMonth: toMonth(b.billingMonth) || '',
    billStatus: b.billStatus || '',
    totalAmount: amount(b.totalAmount),
    totalCharge: amount(b.totalCharge),
    totalDiscount: amount(b.totalDiscount) ?? (discounts.length ? discounts.reduce((s, x) => s + (x.amount || 0), 0) : null),
    charges: items(b.charges),
    discounts,
    usage: { voice: usageText(b.usage && b.usage.voice), sms: usageText(b.usage && b.usage.sms), data: usageText(b.usage && b.usage.data) },
    terminationFee: amount(b.terminationFee),
    deviceRemaining: amount(b.deviceInstallmentRemaining ?? device),
    deviceName: device && typeof device === 'object' ? device.deviceName || '' : '',
    payment: {
      billingDate: pay.billingDate || '',
      dueDate: pay.dueDate || '',
      status: pay.paymentStatus || '',
      method: pay.paymentMethod || '',
    },
  };
}

// --- products -----------------------------------------------------------------

function product(p) {
  if (!p || typeof p !== 'object') return null;
  const allowance = (v) => (v == null ? '' : typeof v === 'object' ? v.display || '' : String(v));
  return {
    code: p.productCode || p.code || '',
    name: p.productName || p.name || '',
    monthlyFee: amount(p.monthlyFee),
    data: allowance(p.dataAllowance),
    voice: allowance(p.voiceAllowance),
    sms: allowance(p.smsAllowance),
    available: p.isAvailable !== false && p.onSale !== false,
    operatorCode: p.operatorCode || '',
    description: p.description || '',
  };
}

export async function productMenu(lineNumber) {
  const [menu, cust] = await Promise.all([
    call('GET', '/products/menu'),
    call('GET', `/products/customer/${encodeURIComponent(digits(lineNumber))}`),
  ]);
  const m = menu.data;
  const c = cust.data;
  const ci = c.contractInfo || {};
  return {
    customerId: m.customerId || c.customerId || '',
    customerName: c.customerName || '',
    lineNumber: formatLine(m.lineNumber || c.lineNumber || lineNumber),
    lineStatus: c.lineStatus || '',
    currentProduct: product(c.currentProduct || m.currentProduct),
    termEndDate: ci.termEndDate || ci.endDate || '',
    terminationFee: amount(ci.earlyTerminationFee ?? ci.terminationFee),
  };
}

export async function availableProducts(currentCode) {
  const q = currentCode ? `?currentProductCode=${encodeURIComponent(currentCode)}` : '';
  const d = (await call('GET', `/products/available${q}`)).data;
  const list = Array.isArray(d.products) ? d.products : Array.isArray(d) ? d : [];
  return list.map(product).filter((p) => p && p.code && p.code !== currentCode);
}

const CHECKS = ['PRODUCT_AVAILABLE', 'OPERATOR_MATCH', 'LINE_STATUS'];

function checks(list) {
  const byType = new Map();
  for (const x of Array.isArray(list) ? list : []) {
    if (x && x.checkType) byType.set(x.checkType, { type: x.checkType, result: x.result === 'PASS' ? 'PASS' : 'FAIL', message: x.message || '' });
  }
  return CHECKS.filter((t) => byType.has(t)).map((t) => byType.get(t))
    .concat([...byType.values()].filter((x) => !CHECKS.includes(x.type)));
}

/** Pre-check.  Resolves {passed, items, reason} also when it failed (200 FAILURE or 409 PRECHECK_FAILED). */
export async function validateChange(lineNumber, currentCode, targetCode) {
  const body = { lineNumber: digits(lineNumber), currentProductCode: currentCode, targetProductCode: targetCode };
  try {
    const d = (await call('POST', '/products/change/validation', { body })).data;
    const list = checks(d.validationDetails);
    const passed = d.validationResult === 'SUCCESS' && list.every((x) => x.result === 'PASS');
    return { passed, items: list, reason: d.failureReason || '' };
  } catch (e) {
    if (e instanceof ApiError && e.code === 'PRECHECK_FAILED') {
      const b = (e.body && e.body.error) || {};
      const data = (e.body && e.body.data) || {};
      return { passed: false, items: checks(b.validationDetails || data.validationDetails), reason: e.details || e.message };
    }
    throw e;
  }
}

export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  const a = new Uint8Array(16);
  window.crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The change itself.  Resolves on COMPLETED; FAILED and refusals reject with ApiError. */
export async function changeProduct(lineNumber, currentCode, targetCode, idempotencyKey) {
  const body = { lineNumber: digits(lineNumber), currentProductCode: currentCode, targetProductCode: targetCode };
  let d = (await call('POST', '/products/change', { body, headers: { 'Idempotency-Key': idempotencyKey } })).data;
  for (let i = 0; (d.processStatus === 'PENDING' || d.processStatus === 'PROCESSING') && i < 10; i++) {
    await sleep(1000);
    d = (await call('GET', `/products/change/${encodeURIComponent(d.requestId)}`)).data;
  }
  if (d.processStatus !== 'COMPLETED') {
    throw new ApiError({
      status: 409,
      code: d.processStatus === 'FAILED' ? 'CHANGE_REJECTED' : 'TIMEOUT',
      message: d.resultMessage || d.failureReason,
      details: d.failureReason,
      body: { data: d },
    });
  }
  const p = product(d.changedProduct) || {};
  return {
    requestId: d.requestId || '',
    productName: p.name || d.productName || d.targetProductName || '',
    productCode: p.code || d.productCode || d.targetProductCode || targetCode,
    monthlyFee: p.monthlyFee ?? amount(d.monthlyFee),
    effectiveDate: d.effectiveDate || d.changeEffectiveDate || (d.processedAt ? String(d.processedAt).slice(0, 10) : ''),
    orderNumber: d.kosOrderNumber || d.orderNumber || d.orderNo || '',
    message: d.resultMessage || '',
  };
}

// --- formats -------------------------------------------------------------------

export function digits(s) { return String(s || '').replace(/\D/g, ''); }

/** "01012345678" or "010-1234-5678" → "010-1234-5678". */
export function formatLine(s) {
  const d = digits(s);
  if (d.length === 11) return `${d.slice(0, 3)}-${d.slice(3, 7)}-${d.slice(7)}`;
  if (d.length === 10) return `${d.slice(0, 3)}-${d.slice(3, 6)}-${d.slice(6)}`;
  return String(s || '');
}

/** "2026-11", "202611", "2026-11-01" → "2026-11"; anything else → "". */
export function toMonth(s) {
  const m = /^(\d{4})-?(\d{2})/.exec(String(s || ''));
  return m ? `${m[1]}-${m[2]}` : '';
}
