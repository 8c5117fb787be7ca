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

// The Korean text of a failure comes from messages.js, never from the server.
import { errorText } from './messages.js';

export class ApiError extends Error {
  constructor({ status = 0, code = 'INTERNAL_SERVER_ERROR', details, retryAfter, timestamp, body }) {
    super(errorText(code, status));
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    // for parsing only (remaining attempts): never shown
    this.details = typeof details === 'string' ? details : '';
    this.retryAfter = retryAfter;
    this.timestamp = timestamp || '';
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
  if (json && json.success === true && res.ok) return { status: res.status, data: json.data ?? {} };
  const err = json && typeof json.error === 'object' && json.error ? json.error : null;
  if (err) {
    throw new ApiError({
      status: res.status,
      code: typeof err.code === 'string' && err.code ? err.code : '',
      details: err.details ?? err.detail,
      retryAfter,
      timestamp: typeof err.timestamp === 'string' ? err.timestamp : '',
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

/**
 * One month's bill.  The month is always sent, also the current one: a menu
 * loaded before midnight at a month's end must not get the new month.
 */
export async function billInquiry(lineNumber, month) {
  const body = { lineNumber, inquiryMonth: month };
  let d = (await call('POST', '/bills/inquiry', { body })).data;
  // A queued inquiry (202 PROCESSING): ask for the stored result a few times.
  for (let i = 0; d.status === 'PROCESSING' && i < 10; i++) {
    await sleep(1000);
    d = (await call('GET', `/bills/inquiry/${encodeURIComponent(d.requestId)}`)).data;
  }
  if (d.status === 'PROCESSING') throw new ApiError({ code: 'TIMEOUT' });
  if (d.status === 'FAILED' || !d.billInfo) throw new ApiError({ code: 'BAD_RESPONSE' });
  return normaliseBill(d);
}

/** GET /bills/summary: the last n months, this month's bill, overdue bills. */
export async function billSummary(n = 6) {
  const d = (await call('GET', `/bills/summary?months=${n}`)).data;
  const months = (Array.isArray(d.months) ? d.months : []).map((x) => ({
    month: toMonth(x.month),
    total: amount(x.totalAmount),
    billStatus: x.billStatus || '',
    paymentStatus: x.paymentStatus || '',
    dueDate: x.dueDate || '',
  }));
  const od = d.overdue || {};
  return {
    currentMonth: toMonth(d.currentMonth),
    months,
    current: d.current && typeof d.current === 'object' ? normaliseBill({ billInfo: d.current }) : null,
    overdue: { count: Number.isInteger(od.count) ? od.count : 0, amount: amount(od.amount) || 0,
      months: months.filter((x) => x.paymentStatus === 'OVERDUE').map((x) => x.month) },
    stale: d.stale === true,
  };
}

function page(d) {
  const items = [d.items, d.history, d.content].find(Array.isArray) || [];
  const pg = d.pagination || {};
  const total = [pg.totalItems, pg.totalElements].find(Number.isInteger);
  return { items, total: total ?? items.length };
}

/** GET /bills/history (newest first). */
export async function billHistory(size = 20) {
  const { items, total } = page((await call('GET', `/bills/history?size=${size}`)).data);
  return {
    total,
    items: items.map((x) => ({
      requestId: x.requestId || '',
      month: toMonth(x.inquiryMonth),
      requestTime: x.requestTime || '',
      status: x.status || '',
      summary: /^SUM_/.test(x.requestId || ''),
    })),
  };
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

/** The contract: {text, remainingMonths (or null), status}. */
function contractOf(b) {
  const c = b.contract && typeof b.contract === 'object' ? b.contract : null;
  const text = typeof b.contractInfo === 'string' ? b.contractInfo : '';
  if (!c) return { text, remainingMonths: null, status: !text || /없음|무약정/.test(text) ? 'NONE' : 'ACTIVE', endDate: '' };
  return {
    text: text || (c.termMonths ? `${c.termMonths}개월 약정` : '약정'),
    remainingMonths: Number.isInteger(c.remainingMonths) ? c.remainingMonths : null,
    status: c.status || '',
    endDate: c.endDate || '',
  };
}

/** usageDetail → {voice, sms, data: {used, allowance (null: unlimited), unit}} or null. */
function usageFigures(u) {
  if (!u || typeof u !== 'object') return null;
  const out = {};
  for (const k of ['voice', 'sms', 'data']) {
    const x = u[k];
    if (!x || typeof x.used !== 'number') return null;
    out[k] = { used: x.used, allowance: typeof x.allowance === 'number' ? x.allowance : null, unit: x.unit || '' };
  }
  return out;
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
  const device = b.device && typeof b.device === 'object' ? b.device : null;
  return {
    requestId: d.requestId || '',
    stale: d.stale === true,
    cachedAt: d.cachedAt || '',
    productName: b.productName || '',
    contract: contractOf(b),
    billingMonth: toMonth(b.billingMonth) || '',
    billStatus: b.billStatus || '',
    periodStart: b.periodStart || '',
    periodEnd: b.periodEnd || '',
    totalAmount: amount(b.totalAmount),
    totalCharge: amount(b.totalCharge),
    totalDiscount: amount(b.totalDiscount) ?? (discounts.length ? discounts.reduce((s, x) => s + (x.amount || 0), 0) : null),
    charges: items(b.charges),
    discounts,
    usage: { voice: usageText(b.usage && b.usage.voice), sms: usageText(b.usage && b.usage.sms), data: usageText(b.usage && b.usage.data) },
    figures: usageFigures(b.usageDetail),
    terminationFee: amount(b.terminationFee),
    deviceRemaining: amount(b.deviceInstallment),
    deviceName: device ? device.deviceName || '' : '',
    deviceMonthsLeft: device && Number.isInteger(device.remainingMonths) ? device.remainingMonths : null,
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
    network: p.network || (/5G/i.test(`${p.productCode || ''} ${p.productName || ''}`) ? '5G' : /LTE/i.test(`${p.productCode || ''} ${p.productName || ''}`) ? 'LTE' : ''),
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
    statusReason: typeof c.statusReason === 'string' ? c.statusReason : '',
    contractType: ci.contractType || '',
    contractActive: ci.status === 'ACTIVE',
    contractMonthsLeft: Number.isInteger(ci.remainingMonths) ? ci.remainingMonths : null,
    currentProduct: product(c.currentProduct || m.currentProduct),
    termEndDate: ci.termEndDate || ci.endDate || '',
    terminationFee: amount(ci.earlyTerminationFee ?? ci.terminationFee),
  };
}

export async function availableProducts(currentCode) {
  const q = currentCode ? `?currentProductCode=${encodeURIComponent(currentCode)}` : '';
  const d = (await call('GET', `/products/available${q}`)).data;
  const list = Array.isArray(d.products) ? d.products : Array.isArray(d) ? d : [];
  const plans = list.map(product).filter((p) => p && p.code && p.code !== currentCode);
  // on-sale plans first, each group by price
  return plans.sort((a, b) => (b.available - a.available) || ((a.monthlyFee ?? 0) - (b.monthlyFee ?? 0)));
}

const CHECKS = ['PRODUCT_AVAILABLE', 'OPERATOR_MATCH', 'LINE_STATUS'];

function checks(list) {
  const byType = new Map();
  for (const x of Array.isArray(list) ? list : []) {
    if (x && x.checkType) byType.set(x.checkType, { type: x.checkType, result: x.result === 'PASS' ? 'PASS' : 'FAIL' });
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
    return { passed, items: list };
  } catch (e) {
    if (e instanceof ApiError && e.code === 'PRECHECK_FAILED') {
      const b = (e.body && e.body.error) || {};
      const data = (e.body && e.body.data) || {};
      return { passed: false, items: checks(b.validationDetails || data.validationDetails) };
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

function kosCode(x) {
  const c = x && (x.resultCode || x.kosResultCode);
  return typeof c === 'string' && /^\d{4}$/.test(c) ? c : '';
}

/** A change's stored state → what the screens use. */
function changeOf(d, fallback = {}) {
  const p = product(d.changedProduct) || {};
  return {
    requestId: d.requestId || fallback.requestId || '',
    status: d.processStatus === 'PENDING' ? 'PROCESSING' : d.processStatus || '',
    productName: p.name || d.productName || d.targetProductName || fallback.productName || '',
    previousName: d.currentProductName || d.previousProductName || fallback.previousName || '',
    monthlyFee: p.monthlyFee ?? amount(d.monthlyFee) ?? fallback.monthlyFee ?? null,
    effectiveDate: d.effectiveDate || d.changeEffectiveDate || (d.processedAt ? String(d.processedAt).slice(0, 10) : ''),
    orderNumber: d.kosOrderNumber || d.orderNumber || d.orderNo || '',
    kosCode: kosCode(d),
    requestedAt: d.requestedAt || '',
  };
}

/**
 * The change itself.  Resolves {status: COMPLETED | PROCESSING, ...}: a
 * 202 PROCESSING is not a failure, the caller polls changeStatus().
 * Refusals reject with ApiError (CHANGE_REJECTED, PRECHECK_FAILED, ...).
 */
export async function changeProduct(lineNumber, currentCode, targetCode, idempotencyKey) {
  const body = { lineNumber: digits(lineNumber), currentProductCode: currentCode, targetProductCode: targetCode };
  const d = (await call('POST', '/products/change', { body, headers: { 'Idempotency-Key': idempotencyKey } })).data;
  return changeOf(d, { productCode: targetCode });
}

/** GET /products/change/{id}: the stored outcome (PROCESSING, COMPLETED, FAILED). */
export async function changeStatus(requestId) {
  const d = (await call('GET', `/products/change/${encodeURIComponent(requestId)}`)).data;
  return changeOf(d, { requestId });
}

/** GET /products/history (newest first). */
export async function productHistory(size = 20) {
  const { items, total } = page((await call('GET', `/products/history?size=${size}`)).data);
  return { total, items: items.map((x) => changeOf(x)) };
}

/** The KOS result code (20xx) a refusal carries, or ''. */
export function refusalCode(e) {
  const b = e && e.body ? e.body : {};
  return kosCode(b.error) || kosCode(b.data) || kosCode(b.error && b.error.data) || '';
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
