// tests/e2e/run.mjs BASE_URL - the e2e tests (started by run.sh).
// A tiny harness: each test gets a fresh browser context (its own
// sessionStorage, its own client address for the login rate limit) and
// either passes, fails with a reason, or skips with a reason.

import { chromium, request as pwRequest } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const BASE = (process.argv[2] || '').replace(/\/$/, '');
if (!BASE) { console.error('usage: run.mjs BASE_URL'); process.exit(2); }
const KOS = (process.env.PHONEBILL_E2E_KOS_URL || '').replace(/\/$/, '');
const SHOTS = process.env.PHONEBILL_E2E_SHOTS || 'var/e2e-shots';
const ONLY = (process.env.PHONEBILL_E2E_ONLY || '').split(/\s+/).filter(Boolean);
const JWT_SECRET_FILE = process.env.PHONEBILL_E2E_JWT_SECRET_FILE || '';
const T = 15000; // ms, longest wait for one thing on a page

const USERS = {
  demo01: { id: 'demo01', pw: 'Phonebill!1', line: '010-1234-5678' },
  demo02: { id: 'demo02', pw: 'Phonebill!2', line: '010-2345-6789' },
  demo03: { id: 'demo03', pw: 'Phonebill!3', line: '010-3456-7890' },
};

class Skip extends Error {}
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(cond, msg) { if (!cond) throw new Error(msg); }
function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// Every context is a different client for the server's login rate limit
// (the local stacks believe X-Forwarded-For from 127.0.0.1).
const run = crypto.randomBytes(1)[0];
let clientSeq = 0;
function clientAddress() { clientSeq += 1; return `198.18.${run}.${clientSeq}`; }

let browser;
const cspViolations = [];

async function newPage(t, { width = 360, height = 800 } = {}) {
  const ctx = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width, height },
    locale: 'ko-KR',
    timezoneId: 'Asia/Seoul',
    extraHTTPHeaders: { 'X-Forwarded-For': clientAddress() },
  });
  t.contexts.push(ctx);
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  page.on('pageerror', (e) => t.pageErrors.push(e.message));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Content-Security-Policy/i.test(text)) cspViolations.push(`${t.name}: ${text}`);
    if (m.type() === 'error' && /Content Security Policy/i.test(text)) t.pageErrors.push(text);
  });
  return page;
}

// --- API helpers (what the page shows is compared with what the server says) --

async function apiContext() {
  return pwRequest.newContext({ ignoreHTTPSErrors: true, extraHTTPHeaders: { 'X-Forwarded-For': clientAddress() } });
}

async function apiLogin(user) {
  const api = await apiContext();
  const body = { data: { userId: user.id, password: user.pw, autoLogin: false } };
  let r;
  try {
    r = await api.post(`${BASE}/api/v1/auth/login`, body);
  } catch (e) {
    // A connection the server closed under us (seen once in a while
    // through lighttpd after the rotation tests restarted the login
    // pool): the login itself never reached a process; try once more.
    if (!/socket hang up|ECONNRESET/.test(String(e))) throw e;
    await new Promise((res) => setTimeout(res, 500));
    r = await api.post(`${BASE}/api/v1/auth/login`, body);
  }
  const b = await r.json();
  if (!b.success) throw new Error(`API login of ${user.id} failed: ${JSON.stringify(b.error)}`);
  return { api, token: b.data.accessToken };
}

async function apiCall(session, method, p, data) {
  const r = await session.api.fetch(`${BASE}/api/v1${p}`, {
    method, data, headers: { Authorization: `Bearer ${session.token}` },
  });
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  return { status: r.status(), body };
}

// Bill/product tests skip only while the service has no such operation
// (the route answers 404 NOT_FOUND); once it exists they must pass.
const availability = {};
async function requireService(kind) {
  if (!(kind in availability)) {
    const api = await apiContext();
    const health = await api.get(`${BASE}/api/v1/${kind}/health`);
    let ok = health.status() !== 404;
    let why = 'service not available (health endpoint answers 404)';
    if (ok) {
      const s = await apiLogin(USERS.demo01);
      const probe = await apiCall(s, 'GET', kind === 'bills' ? '/bills/menu' : '/products/menu');
      if (probe.status === 404 && probe.body && probe.body.error && probe.body.error.code === 'NOT_FOUND') {
        ok = false;
        why = `service not available (GET /api/v1/${kind}/menu answers 404 NOT_FOUND: the operations are not deployed)`;
      }
      await apiCall(s, 'POST', '/auth/logout');
      await s.api.dispose();
    }
    await api.dispose();
    availability[kind] = ok ? null : why;
  }
  if (availability[kind]) throw new Skip(availability[kind]);
}

async function kos(method, p, data) {
  const api = await pwRequest.newContext();
  try {
    const r = await api.fetch(`${KOS}${p}`, { method, data, headers: data === undefined ? {} : { 'Content-Type': 'application/json' } });
    return await r.json();
  } finally {
    await api.dispose();
  }
}

async function resetSimulator() {
  if (!KOS) return;
  const b = await kos('POST', '/_sim/data/reset', {});
  assert(b && b.success, `simulator reset failed: ${JSON.stringify(b)}`);
}

/** The bill total the simulator computes for a line and month (YYYY-MM), or our bill API's. */
async function expectedBill(user, month, current) {
  if (KOS) {
    const b = await kos('POST', '/api/v1/kos/bill/inquiry', {
      lineNumber: user.line.replace(/-/g, ''), billingMonth: month.replace('-', ''), requestId: `e2e-${crypto.randomUUID()}`,
    });
    assert(b && b.success, `simulator bill inquiry failed: ${JSON.stringify(b)}`);
    return { totalAmount: b.data.billInfo.totalAmount, productName: b.data.billInfo.productName };
  }
  const s = await apiLogin(user);
  const body = { lineNumber: user.line };
  if (!current) body.inquiryMonth = month;
  const r = await apiCall(s, 'POST', '/bills/inquiry', body);
  await s.api.dispose();
  assert(r.status === 200, `bill API answered ${r.status}`);
  return { totalAmount: r.body.data.billInfo.totalAmount, productName: r.body.data.billInfo.productName };
}

// --- page helpers -------------------------------------------------------------

// axe-core from node_modules (vendored through package-lock.json, never a
// CDN), evaluated in the page through the DevTools protocol, which the
// page's CSP does not govern.  Every screenshot is also an axe check.
const AXE_SRC = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const axeViolations = [];
let axeScreens = 0;

async function axeCheck(page, name) {
  await page.evaluate(AXE_SRC);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')}`);
  });
  axeScreens += 1;
  for (const v of found) axeViolations.push(`${name}: ${v}`);
  return found;
}

// The UI's own message table (www/js/messages.js has no DOM), loaded as a module.
const MESSAGES = await import(`data:text/javascript,${encodeURIComponent(
  fs.readFileSync(new URL('../../www/js/messages.js', import.meta.url), 'utf8'))}`);

async function noOverflow(page, what) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert(w[0] <= w[1], `${what}: the page is ${w[0]} px wide in a ${w[1]} px window`);
}

async function shot(page, name) {
  if (page.viewportSize().width <= 400) await noOverflow(page, name);
  await axeCheck(page, name);
  fs.mkdirSync(SHOTS, { recursive: true });
  const vp = page.viewportSize();
  await page.waitForTimeout(150); // let the last paint settle (spinners stop)
  await page.screenshot({ path: path.join(SHOTS, `${name}-360.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(SHOTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize(vp);
}

async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ').trim();
}

async function login(page, user) {
  await page.goto(`${BASE}/#/login`);
  await page.getByLabel('아이디').fill(user.id);
  await page.getByLabel('비밀번호', { exact: true }).fill(user.pw);
  await page.getByRole('button', { name: '로그인' }).click();
  await page.locator('[data-testid="line-number"]').waitFor();
}

const digitsOf = (s) => Number(String(s).replace(/[^\d]/g, ''));

// --- tests ---------------------------------------------------------------------

test('csp-and-static', async (t) => {
  const page = await newPage(t);
  const res = await page.goto(`${BASE}/`);
  const csp = res.headers()['content-security-policy'] || '';
  assert(/script-src 'self'/.test(csp) && /style-src 'self'/.test(csp), `CSP header missing or weak: "${csp}"`);
  const html = await res.text();
  assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'index.html has an inline <script>');
  assert(!/\sstyle=/i.test(html), 'index.html has a style= attribute');
  assert(!/\son[a-z]+=/i.test(html), 'index.html has an inline event handler');
  await page.locator('h1', { hasText: '로그인' }).waitFor();
  eq(await page.locator('html').getAttribute('lang'), 'ko', 'html lang');
  await shot(page, '01-login');
});

test('login-failure-and-lock', async (t) => {
  const page = await newPage(t);
  const known = !!process.env.PHONEBILL_E2E_LOCK_USER;
  const user = known
    ? { id: process.env.PHONEBILL_E2E_LOCK_USER, pw: process.env.PHONEBILL_E2E_LOCK_PASSWORD }
    : { id: `e2e-nobody-${Date.now() % 1e8}`, pw: 'never-right-1' };
  await page.goto(`${BASE}/#/login`);
  const alert = page.locator('.form-message [role="alert"]');
  const attempt = async (pw) => {
    await page.getByLabel('아이디').fill(user.id);
    await page.getByLabel('비밀번호', { exact: true }).fill(pw);
    await page.getByRole('button', { name: '로그인' }).click();
    await page.getByRole('button', { name: '로그인' }).and(page.locator(':enabled')).waitFor();
    await alert.waitFor();
    return text(page, '.form-message [role="alert"]');
  };
  for (let i = 1; i <= 4; i++) {
    const msg = await attempt(`wrong-password-${i}`);
    assert(msg.includes('ID 또는 비밀번호를 확인해주세요'), `attempt ${i}: no AUTH_001 message in "${msg}"`);
    assert(msg.includes(`남은 시도 횟수: ${5 - i}회`), `attempt ${i}: remaining attempts ${5 - i} not shown in "${msg}"`);
    if (i === 1) await shot(page, '01-login-error');
  }
  const locked = await attempt('wrong-password-5');
  assert(locked.includes('5회 연속 실패하여 30분간 계정이 잠금되었습니다'), `5th failure: no lock message in "${locked}"`);
  // Locked: even the right password (for the throwaway user) is refused.
  const again = await attempt(known ? user.pw : 'wrong-password-6');
  assert(again.includes('계정이 잠금되었습니다. 30분 후 다시 시도해주세요'), `while locked: no AUTH_003 message in "${again}"`);
  eq(await page.locator('[data-testid="line-number"]').count(), 0, 'a locked account reached the main screen');
  const until = await text(page, '[data-testid="unlock-time"]');
  assert(/\d{4}년 \d{1,2}월 \d{1,2}일 \d{2}:\d{2}부터 다시 로그인할 수 있습니다/.test(until), `no unlock time: "${until}"`);
  await shot(page, '01-login-locked');
  t.note = known ? `throwaway user ${user.id}` : 'unknown user id';
});

test('login-main', async (t) => {
  const page = await newPage(t);
  await login(page, USERS.demo01);
  eq(await text(page, '[data-testid="line-number"]'), '010-1234-5678', 'line number on the main screen');
  const h1 = await text(page, 'h1');
  assert(h1.includes('김민준'), `greeting "${h1}" lacks the user name`);
  const bill = page.locator('a[data-card="bill"]');
  const prod = page.locator('a[data-card="product"]');
  eq(await bill.count(), 1, 'enabled bill card');
  eq(await prod.count(), 1, 'enabled product card');
  assert((await bill.innerText()).includes('요금 조회'), 'bill card title');
  assert((await prod.innerText()).includes('상품 변경'), 'product card title');
  eq(await page.locator('[aria-disabled="true"]').count(), 0, 'no card disabled for demo01');
  await page.getByRole('button', { name: '로그아웃' }).waitFor();
  await shot(page, '02-main');
});

test('no-permission-card', async (t) => {
  const page = await newPage(t);
  await login(page, USERS.demo02);
  eq(await text(page, '[data-testid="line-number"]'), '010-2345-6789', 'line number');
  eq(await page.locator('a[data-card="bill"]').count(), 1, 'bill card enabled');
  const card = page.locator('[data-card="product"]');
  eq(await card.getAttribute('aria-disabled'), 'true', 'product card aria-disabled');
  eq(await page.locator('a[data-card="product"]').count(), 0, 'product card must not be a link');
  const msg = await card.innerText();
  assert(msg.includes('서비스 이용 권한이 없습니다'), `product card says "${msg}"`);
  await shot(page, '02-main-no-permission');
  // Typing the address does not help either.
  await page.goto(`${BASE}/#/products`);
  await page.locator('[data-testid="line-number"]').waitFor();
  assert((await text(page, 'main')).includes('서비스 이용 권한이 없습니다'), 'no message after a direct #/products');
  assert(!page.url().includes('#/products'), `still on ${page.url()}`);
});

async function billMenu(page) {
  await page.locator('a[data-card="bill"]').click();
  await page.getByLabel('조회 월').waitFor();
}

test('bill-current-month', async (t) => {
  await requireService('bills');
  const page = await newPage(t);
  await login(page, USERS.demo01);
  const s = await apiLogin(USERS.demo01);
  const menu = await apiCall(s, 'GET', '/bills/menu');
  await s.api.dispose();
  eq(menu.status, 200, 'GET /bills/menu');
  const current = menu.body.data.currentMonth;
  await billMenu(page);
  eq(await page.getByLabel('조회 월').inputValue(), current, 'default month');
  assert((await text(page, 'main')).includes('010-1234-5678'), 'bill menu lacks the line number');
  await shot(page, '03-bill-menu');
  await page.getByRole('button', { name: '조회하기' }).click();
  await page.locator('[data-testid="total-amount"]').waitFor();
  const exp = await expectedBill(USERS.demo01, current, true);
  eq(digitsOf(await text(page, '[data-testid="total-amount"]')), exp.totalAmount, 'total amount (current month)');
  const body = await text(page, 'main');
  assert(body.includes(exp.productName), `plan "${exp.productName}" not shown`);
  for (const w of ['사용량', '통화', '데이터', '단말기 할부 잔여금', '예상 해지 위약금', '납부 상태']) assert(body.includes(w), `result lacks "${w}"`);
  const [y, m] = current.split('-');
  assert((await text(page, 'h1')).includes(`${y}년 ${Number(m)}월`), 'heading month');
  await shot(page, '04-bill-result');
});

test('bill-past-month', async (t) => {
  await requireService('bills');
  const page = await newPage(t);
  await login(page, USERS.demo01);
  await billMenu(page);
  const values = await page.locator('select[name="inquiryMonth"] option').evaluateAll((os) => os.map((o) => o.value));
  assert(values.length >= 3, `only ${values.length} months offered`);
  const month = values[2];
  await page.getByLabel('조회 월').selectOption(month);
  await page.getByRole('button', { name: '조회하기' }).click();
  await page.locator('[data-testid="total-amount"]').waitFor();
  const exp = await expectedBill(USERS.demo01, month, false);
  eq(digitsOf(await text(page, '[data-testid="total-amount"]')), exp.totalAmount, `total amount (${month})`);
  const [y, m] = month.split('-');
  assert((await text(page, 'h1')).includes(`${y}년 ${Number(m)}월`), 'heading month');
  await shot(page, '04-bill-result-past');
  // "other month" goes back to the menu with the month kept; "main" to main.
  await page.getByRole('link', { name: '다른 월 조회' }).click();
  eq(await page.getByLabel('조회 월').inputValue(), month, 'month kept for another inquiry');
  await page.getByRole('link', { name: '메인으로' }).click();
  await page.locator('[data-testid="line-number"]').waitFor();
});

async function toChangeScreen(page, user, targetName) {
  await login(page, user);
  await page.locator('a[data-card="product"]').click();
  await page.getByRole('link', { name: '요금제 선택하기' }).waitFor();
  await shot(page, `05-product-menu-${user.id}`);
  await page.getByRole('link', { name: '요금제 선택하기' }).click();
  await page.locator('input[name="plan"]').first().waitFor();
  const next = page.getByRole('button', { name: '다음' });
  assert(await next.isDisabled(), '"다음" enabled before a plan is chosen');
  const radio = targetName
    ? page.getByRole('radio', { name: new RegExp(targetName) })
    : page.locator('input[name="plan"]:enabled').first();
  await radio.check();
  assert(await next.isEnabled(), '"다음" still disabled after choosing a plan');
  await shot(page, `06-product-select-${user.id}`);
  await next.click();
  await page.locator('.checks').waitFor();
}

test('plan-change-happy-path', async (t) => {
  await requireService('products');
  if (KOS) await resetSimulator();
  const page = await newPage(t);
  const changes = [];
  page.on('request', (r) => { if (r.method() === 'POST' && /\/api\/v1\/products\/change$/.test(r.url())) changes.push(r.headers()['idempotency-key']); });
  try {
    await toChangeScreen(page, USERS.demo01, '^5G 스탠다드');
    const main = await text(page, 'main');
    assert(main.includes('5G 프리미엄') && main.includes('5G 스탠다드'), 'current → target not shown');
    const submit = page.getByRole('button', { name: '변경 신청' });
    await page.locator('.check-message .alert-success').waitFor();
    for (const c of ['PRODUCT_AVAILABLE', 'OPERATOR_MATCH', 'LINE_STATUS']) {
      eq(await page.locator(`[data-check="${c}"] .check-status`).innerText(), '통과', `pre-check ${c}`);
    }
    assert(await submit.isEnabled(), 'submit disabled after a passed pre-check');
    await shot(page, '07-product-change');
    await submit.click();
    await page.getByRole('dialog').getByRole('button', { name: '변경하기' }).click();
    await page.locator('h1', { hasText: '요금제 변경 완료' }).waitFor();
    const res = await text(page, 'main');
    assert(res.includes('5G 스탠다드'), `new plan not shown: ${res}`);
    assert(/주문 번호/.test(res) && /KOS\d{8}-\d+|[A-Z0-9-]{6,}/.test(res), `no order number: ${res}`);
    assert(/적용일 \d{4}년 \d{1,2}월 \d{1,2}일/.test(res), `no effective date: ${res}`);
    eq(changes.length, 1, 'POST /products/change count');
    assert(changes[0] && changes[0].length >= 16, `Idempotency-Key header missing (${changes[0]})`);
    await shot(page, '08-product-result');
    if (KOS) {
      const b = await kos('POST', '/api/v1/kos/product/inquiry', { lineNumber: '01012345678', requestId: `e2e-${crypto.randomUUID()}` });
      eq(b.data && b.data.productInfo && b.data.productInfo.productCode, '5G-STANDARD-001', 'plan at KOS after the change');
    }
  } finally {
    // Back to the seeded plan through our own API too, so that the
    // services' cached customer and bill data follow (a simulator reset
    // alone would leave them describing the changed plan for hours).
    if (changes.length) {
      try {
        const s = await apiLogin(USERS.demo01);
        await s.api.fetch(`${BASE}/api/v1/products/change`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${s.token}`, 'Idempotency-Key': crypto.randomUUID() },
          data: { lineNumber: '01012345678', currentProductCode: '5G-STANDARD-001', targetProductCode: '5G-PREMIUM-001' },
        });
        await s.api.dispose();
      } catch { /* the reset below still puts KOS back */ }
    }
    await resetSimulator();
  }
});

test('suspended-line-first-screen', async (t) => {
  await requireService('products');
  const page = await newPage(t);
  await login(page, USERS.demo03);
  // The main screen says it first, with what to do, in 이용정지 words.
  const banner = page.locator('[data-testid="suspended-banner"]');
  await banner.waitFor();
  const b = await banner.innerText();
  assert(b.includes('이용정지') && b.includes('납부'), `suspended banner: ${b}`);
  assert(!(await text(page, 'main')).includes('일시 정지'), '"일시 정지" used for a non-payment suspension');
  await page.locator('[data-testid="dashboard"]').waitFor();
  await shot(page, '02-main-suspended');
  // The plan change's first screen: told before choosing anything.
  await page.locator('a[data-card="product"]').click();
  await page.locator('[data-testid="change-blocked"]').waitFor();
  eq(await page.getByRole('link', { name: '요금제 선택하기' }).count(), 0, 'plan selection offered to a suspended line');
  assert((await text(page, 'main')).includes('이용정지'), 'line status not 이용정지');
  await shot(page, '05-product-menu-suspended');
});

test('precheck-failure', async (t) => {
  await requireService('products');
  const page = await newPage(t);
  // A line that became suspended between the menu and the pre-check: the
  // service's 409 PRECHECK_FAILED (its free text must not be shown).
  await page.route(/\/api\/v1\/products\/change\/validation$/, (route) => route.fulfill({
    status: 409, contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({ success: false, error: { code: 'PRECHECK_FAILED', message: 'RAW-SERVER-TEXT', details: 'line SUSPENDED',
      timestamp: new Date().toISOString(), validationDetails: [
        { checkType: 'PRODUCT_AVAILABLE', result: 'PASS', message: 'RAW ok' },
        { checkType: 'OPERATOR_MATCH', result: 'PASS', message: 'RAW ok' },
        { checkType: 'LINE_STATUS', result: 'FAIL', message: 'RAW line suspended' }] } }),
  }));
  await toChangeScreen(page, USERS.demo01);
  const alert = page.locator('[data-testid="precheck-failed"]');
  await alert.waitFor();
  const msg = await alert.innerText();
  assert(msg.includes('상품 사전 체크에 실패하였습니다'), `pre-check failure message: ${msg}`);
  assert(msg.includes(MESSAGES.CHECK_TEXT.LINE_STATUS.FAIL), `LINE_STATUS reason: ${msg}`);
  assert(!(await text(page, 'main')).includes('RAW'), 'server text shown');
  eq(await page.locator('[data-check="LINE_STATUS"] .check-status').innerText(), '실패', 'LINE_STATUS result');
  assert(await page.getByRole('button', { name: '변경 신청' }).isDisabled(), 'submit enabled after a failed pre-check');
  await shot(page, '07-product-precheck-failed');
});

test('refresh-on-token-expired', async (t) => {
  const page = await newPage(t);
  // The first user-info and permissions calls after login get the server's
  // 401 TOKEN_EXPIRED answer: both must wait for one shared refresh.
  const expired = { success: false, error: { code: 'TOKEN_EXPIRED', message: '토큰이 만료되었습니다.', details: '새로운 토큰을 발급받아주세요.', timestamp: new Date().toISOString() } };
  const hit = { 'user-info': 0, permissions: 0 };
  const auths = { 'user-info': [], permissions: [] };
  let refreshes = 0;
  page.on('request', (r) => { if (/\/api\/v1\/auth\/refresh$/.test(r.url())) refreshes += 1; });
  await page.route(/\/api\/v1\/auth\/(user-info|permissions)$/, async (route) => {
    const which = route.request().url().endsWith('user-info') ? 'user-info' : 'permissions';
    hit[which] += 1;
    auths[which].push(route.request().headers().authorization);
    if (hit[which] === 1) {
      await route.fulfill({ status: 401, contentType: 'application/json; charset=utf-8', body: JSON.stringify(expired) });
    } else {
      await route.continue();
    }
  });
  await login(page, USERS.demo01);
  eq(await text(page, '[data-testid="line-number"]'), '010-1234-5678', 'line number after the refresh');
  eq(refreshes, 1, 'refresh calls');
  eq(hit['user-info'], 2, 'user-info calls');
  eq(hit.permissions, 2, 'permission calls');
  assert(auths['user-info'][1] !== auths['user-info'][0], 'the retried call did not use the new token');
  eq(auths['user-info'][1], auths.permissions[1], 'both retries use the same new token');
  // The refreshed session is a real one: a reload works with it.
  await page.unroute(/\/api\/v1\/auth\/(user-info|permissions)$/);
  await page.reload();
  await page.locator('[data-testid="line-number"]').waitFor();
  eq(refreshes, 1, 'refresh calls after reload');
});

function forgeExpired(token, secret) {
  const [h, p] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const now = claims.iat;   // the auth service's clock, not the host's
  Object.assign(claims, { iat: now - 4000, nbf: now - 4000, exp: now - 10 });
  const body = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}

test('refresh-with-expired-token', async (t) => {
  if (!JWT_SECRET_FILE) throw new Skip('PHONEBILL_E2E_JWT_SECRET_FILE not set (needed to make a genuinely expired token)');
  let secret;
  try { secret = fs.readFileSync(JWT_SECRET_FILE, 'utf8').trim(); } catch (e) { throw new Skip(`cannot read the JWT secret: ${e.code}`); }
  const page = await newPage(t);
  await login(page, USERS.demo01);
  const token = await page.evaluate(() => sessionStorage.getItem('pb.accessToken'));
  await page.evaluate((tok) => sessionStorage.setItem('pb.accessToken', tok), forgeExpired(token, secret));
  const answers = [];
  let refreshes = 0;
  page.on('response', async (r) => {
    if (/\/api\/v1\/auth\/refresh$/.test(r.url())) refreshes += 1;
    if (/\/api\/v1\/auth\/(user-info|permissions)$/.test(r.url())) {
      let code = '';
      try { code = r.status() === 401 ? (await r.json()).error.code : ''; } catch { /* ignore */ }
      answers.push(`${r.status()}${code ? ` ${code}` : ''}`);
    }
  });
  await page.reload();
  await page.locator('[data-testid="line-number"]').waitFor();
  await page.waitForTimeout(200);
  assert(answers.filter((a) => a === '401 TOKEN_EXPIRED').length >= 1, `the server never said TOKEN_EXPIRED: ${answers.join(', ')}`);
  eq(refreshes, 1, 'refresh calls');
  eq(answers.filter((a) => a === '200').length, 2, `successful calls after the refresh (${answers.join(', ')})`);
});

test('logout', async (t) => {
  const page = await newPage(t);
  await login(page, USERS.demo01);
  const token = await page.evaluate(() => sessionStorage.getItem('pb.accessToken'));
  await page.getByRole('button', { name: '로그아웃' }).click();
  await page.locator('h1', { hasText: '로그인' }).waitFor();
  assert((await text(page, 'main')).includes('로그아웃되었습니다'), 'no logout message');
  eq(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, 'storage entries left after logout');
  // Back: nothing of the session is shown.
  await page.goBack();
  await page.waitForTimeout(300);
  await page.locator('h1', { hasText: '로그인' }).waitFor();
  eq(await page.locator('[data-testid="line-number"]').count(), 0, 'line number visible after back');
  assert(!(await page.content()).includes('010-1234-5678'), 'the line number is still in the page after back');
  await page.goto(`${BASE}/#/main`);
  await page.locator('h1', { hasText: '로그인' }).waitFor();
  // And the server ended the session.
  const api = await apiContext();
  const r = await api.get(`${BASE}/api/v1/auth/verify`, { headers: { Authorization: `Bearer ${token}` } });
  eq(r.status(), 401, 'old access token after logout');
  await api.dispose();
});

test('keyboard-and-labels', async (t) => {
  const page = await newPage(t);
  await page.goto(`${BASE}/#/login`);
  await page.locator('h1', { hasText: '로그인' }).waitFor();
  // Every form control has a label.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.name || el.type));
  eq(unlabelled.join(','), '', 'unlabelled controls');
  // Keyboard only: the id field has focus, Tab to the password, Enter submits.
  eq(await page.evaluate(() => document.activeElement && document.activeElement.name), 'userId', 'first focus');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert(outline !== 'none', 'no visible focus on the id field');
  await page.keyboard.type(USERS.demo02.id);
  await page.keyboard.press('Tab');
  eq(await page.evaluate(() => document.activeElement.name), 'password', 'focus after Tab');
  await page.keyboard.type(USERS.demo02.pw);
  await page.keyboard.press('Enter');
  await page.locator('[data-testid="line-number"]').waitFor();
  // Tab reaches the bill card, Enter opens it.
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement && document.activeElement.dataset.card === 'bill')) break;
  }
  eq(await page.evaluate(() => document.activeElement.dataset.card), 'bill', 'Tab reaches the bill card');
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert(ring !== 'none', 'no visible focus on the bill card');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/bills$/);
});


// --- issue 16 ----------------------------------------------------------------------

function apiMdCodes() {
  for (const p of [process.env.PHONEBILL_E2E_API_MD, new URL('../../../shared/docs/API.md', import.meta.url).pathname, '/work/shared/docs/API.md']) {
    if (!p || !fs.existsSync(p)) continue;
    const out = [];
    for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
      const m = /^\|\s*(\d{3})\s*\|(.*?)\|/.exec(line);
      if (m) for (const c of m[2].matchAll(/`([A-Z0-9_]+)`/g)) out.push({ status: Number(m[1]), code: c[1] });
    }
    if (out.length) return out;
  }
  // without the shared API.md: the ErrorCode enum of our own OpenAPI document
  const y = fs.readFileSync(new URL('../../docs/openapi/phonebill.yaml', import.meta.url), 'utf8');
  const m = /\n    ErrorCode:[\s\S]*?enum:\s*\[([^\]]*)\]/.exec(y) || /\n    ErrorCode:[\s\S]*?enum:\n((?:\s+- .*\n)+)/.exec(y);
  if (!m) throw new Error('no error table found (API.md or ErrorCode in the OpenAPI document)');
  return m[1].split(/[\s,\-]+/).filter(Boolean).map((code) => ({ status: 0, code }));
}

const HANGUL = /[\uac00-\ud7a3]/;
const errorBody = (code) => JSON.stringify({ success: false, error: { code, message: 'RAW-SERVER-TEXT KOS is unavailable', details: 'RAW-DETAILS garbage', timestamp: new Date().toISOString() } });

test('error-codes-in-korean', async (t) => {
  await requireService('bills');
  const codes = apiMdCodes();
  assert(codes.length >= 20, `only ${codes.length} codes in the table`);
  const page = await newPage(t);
  // 401 codes through the login form (a 401 elsewhere ends the session).
  await page.goto(`${BASE}/#/login`);
  let current = null;
  await page.route(/\/api\/v1\/auth\/login$/, (route) => route.fulfill({
    status: current.status || 401, contentType: 'application/json; charset=utf-8', body: errorBody(current.code),
    headers: { 'Retry-After': '600' } }));
  const seen = [];
  for (const c of codes.filter((x) => x.status === 401)) {
    current = c;
    await page.getByLabel('아이디').fill('someone');
    await page.getByLabel('비밀번호', { exact: true }).fill('whatever-1');
    await page.getByRole('button', { name: '로그인' }).click();
    const box = page.locator(`.form-message [role="alert"][data-code="${c.code}"]`);
    await box.waitFor();
    const msg = (await box.innerText()).replace(/\s+/g, ' ');
    assert(msg.includes(MESSAGES.CODE_TEXT[c.code]), `${c.code}: "${msg}" lacks the UI's text`);
    assert(!/RAW|KOS|garbage/.test(msg) && HANGUL.test(msg), `${c.code}: server text or no Korean in "${msg}"`);
    seen.push(c.code);
  }
  await page.unroute(/\/api\/v1\/auth\/login$/);
  // Every other code on the bill menu.
  await login(page, USERS.demo01);
  await page.route(/\/api\/v1\/bills\/menu$/, (route) => route.fulfill({
    status: current.status || 500, contentType: 'application/json; charset=utf-8', body: errorBody(current.code),
    headers: { 'Retry-After': '5' } }));
  const others = codes.filter((x) => x.status !== 401).concat([{ status: 503, code: 'A_CODE_FROM_THE_FUTURE' }]);
  for (const c of others) {
    current = c;
    await page.evaluate(() => { window.location.hash = '#/main'; });
    await page.locator('[data-testid="line-number"]').waitFor();
    await page.evaluate(() => { window.location.hash = '#/bills'; });
    const box = page.locator(`[role="alert"][data-code="${c.code}"]`);
    await box.waitFor();
    const msg = (await box.innerText()).replace(/\s+/g, ' ');
    const want = MESSAGES.errorText(c.code, c.status);
    assert(msg.includes(want), `${c.code} (${c.status}): "${msg}" lacks "${want}"`);
    assert(!/RAW|KOS|garbage/.test(msg) && HANGUL.test(msg), `${c.code}: server text or no Korean in "${msg}"`);
    if (c.code === 'SERVICE_UNAVAILABLE') await shot(page, '03-bill-menu-503');
    seen.push(c.code);
  }
  t.note = `${seen.length} codes`;
});

test('bill-month-sent-explicitly', async (t) => {
  await requireService('bills');
  const page = await newPage(t);
  await login(page, USERS.demo01);
  const bodies = [];
  page.on('request', (r) => { if (r.method() === 'POST' && /\/api\/v1\/bills\/inquiry$/.test(r.url())) bodies.push(JSON.parse(r.postData() || '{}')); });
  const s = await apiLogin(USERS.demo01);
  const menu = await apiCall(s, 'GET', '/bills/menu');
  await s.api.dispose();
  await billMenu(page);
  eq(await page.getByLabel('조회 월').inputValue(), menu.body.data.currentMonth, 'default month');
  await page.getByRole('button', { name: '조회하기' }).click();
  await page.locator('[data-testid="total-amount"]').waitFor();
  eq(bodies.length, 1, 'inquiries sent');
  // The current month too: a menu loaded before midnight must not get the next month's bill.
  eq(bodies[0].inquiryMonth, menu.body.data.currentMonth, 'inquiryMonth of the current month');
});

async function summaryOf(user) {
  const s = await apiLogin(user);
  const r = await apiCall(s, 'GET', '/bills/summary?months=6');
  await s.api.dispose();
  eq(r.status, 200, 'GET /bills/summary');
  return r.body.data;
}

test('dashboard', async (t) => {
  await requireService('bills');
  const page = await newPage(t);
  let summaries = 0;
  page.on('request', (r) => { if (/\/api\/v1\/bills\/summary/.test(r.url())) summaries += 1; });
  await login(page, USERS.demo01);
  const dash = page.locator('[data-testid="dashboard"]');
  await dash.waitFor();
  const sum = await summaryOf(USERS.demo01);
  const d = (await dash.innerText()).replace(/\s+/g, ' ');
  assert(d.includes(sum.current.productName), `plan "${sum.current.productName}" not on the dashboard: ${d}`);
  assert(d.includes(`${sum.current.totalAmount.toLocaleString('ko-KR')}원`), `amount so far ${sum.current.totalAmount} not shown: ${d}`);
  eq(await page.locator('[data-testid="gauges"] .gauge').count(), 3, 'gauges');
  eq(summaries, 1, 'summary calls for one dashboard view');
  eq(await page.locator('[data-testid="overdue-banner"], [data-testid="suspended-banner"]').count(), 0, 'banner for a line in good standing');
  await shot(page, '02-main-dashboard');
  // A plan with a data allowance: "6GB 중 …" with a bar.
  const p2 = await newPage(t);
  await login(p2, USERS.demo02);
  await p2.locator('[data-testid="dashboard"]').waitFor();
  const g = (await p2.locator('[data-gauge="데이터"]').innerText()).replace(/\s+/g, ' ');
  assert(/\d+(\.\d)?(GB|MB) 중 \d+(\.\d)?(GB|MB)/.test(g), `data gauge "${g}"`);
  eq(await p2.locator('[data-gauge="데이터"] .gauge-bar').count(), 1, 'data gauge bar');
  await shot(p2, '02-main-dashboard-demo02');
  // Overdue bills: the amount from the service.
  const p3 = await newPage(t);
  await login(p3, USERS.demo03);
  const od = p3.locator('[data-testid="overdue-banner"]');
  await od.waitFor();
  const s3 = await summaryOf(USERS.demo03);
  assert(s3.overdue.count > 0, 'demo03 is seeded with overdue bills');
  assert((await od.innerText()).includes(`${s3.overdue.amount.toLocaleString('ko-KR')}원`), `overdue ${s3.overdue.amount} not in the banner`);
});

test('bill-result-details', async (t) => {
  await requireService('bills');
  const page = await newPage(t);
  await login(page, USERS.demo01);
  await billMenu(page);
  await page.getByRole('button', { name: '조회하기' }).click();
  await page.locator('[data-testid="total-amount"]').waitFor();
  await page.locator('[data-testid="trend-compare"]').waitFor();
  const body = await text(page, 'main');
  const sum = await summaryOf(USERS.demo01);
  const c = sum.current;
  assert(/사용 기간 \d{4}년 \d{1,2}월 1일 ~ \d{1,2}월 \d{1,2}일/.test(body), `no billing period: ${body.slice(0, 300)}`);
  assert(body.includes(`남은 기간 ${c.contract.remainingMonths}개월`), 'contract months remaining');
  assert(!body.includes('고객번호') && !body.includes('C0001'), 'internal customer code shown');
  assert(!body.includes('납부 예정') && body.includes('청구 전'), 'the unbilled current month is labelled 납부 예정');
  eq(await page.locator('[data-testid="trend"] svg rect').count(), sum.months.filter((x) => x.totalAmount != null).length, 'trend bars');
  const prev = sum.months[sum.months.length - 2].totalAmount;
  const diff = c.totalAmount - prev;
  const cmp = await text(page, '[data-testid="trend-compare"]');
  assert(cmp.includes(diff === 0 ? '변동 없음' : `${Math.abs(diff).toLocaleString('ko-KR')}원 ${diff > 0 ? '증가' : '감소'}`), `전월 대비: "${cmp}" (diff ${diff})`);
  eq(await page.locator('[data-testid="bill-gauges"] .gauge').count(), 3, 'usage gauges');
  await shot(page, '04-bill-result-trend');
  // No device, no contract: 해당 없음.
  const p2 = await newPage(t);
  await login(p2, USERS.demo02);
  await billMenu(p2);
  const months = await p2.locator('select[name="inquiryMonth"] option').evaluateAll((os) => os.map((o) => o.value));
  await p2.getByLabel('조회 월').selectOption(months[1]);
  await p2.getByRole('button', { name: '조회하기' }).click();
  await p2.locator('[data-testid="total-amount"]').waitFor();
  const b2 = await text(p2, 'main');
  assert(/단말기 할부 잔여금 해당 없음/.test(b2), `device: ${b2}`);
  assert(/약정 해당 없음/.test(b2), 'contract: 해당 없음');
  await shot(p2, '04-bill-result-demo02');
  // Overdue amounts on demo03's current bill.
  const p3 = await newPage(t);
  await login(p3, USERS.demo03);
  await billMenu(p3);
  await p3.getByRole('button', { name: '조회하기' }).click();
  const od = p3.locator('[data-testid="overdue-notice"]');
  await od.waitFor();
  const s3 = await summaryOf(USERS.demo03);
  assert((await od.innerText()).includes(`${s3.overdue.amount.toLocaleString('ko-KR')}원`), 'overdue amount on the bill');
  await shot(p3, '04-bill-result-overdue');
});

test('plan-selection', async (t) => {
  await requireService('products');
  const page = await newPage(t);
  await login(page, USERS.demo01);
  await page.locator('[data-testid="dashboard"]').waitFor();
  await page.locator('a[data-card="product"]').click();
  await page.getByRole('link', { name: '요금제 선택하기' }).click();
  await page.locator('input[name="plan"]').first().waitFor();
  const cards = await page.locator('.plan-cards > li').evaluateAll((ls) => ls.map((l) => ({
    enabled: !l.querySelector('input').disabled, net: l.dataset.network, fee: Number(l.dataset.fee),
    diff: !!l.querySelector('[data-testid="plan-diff"]'), disc: (l.querySelector('[data-testid="discounted"]') || {}).textContent || '' })));
  const firstOff = cards.findIndex((c) => !c.enabled);
  assert(firstOff === -1 || cards.slice(firstOff).every((c) => !c.enabled), 'a plan not on sale before one on sale');
  assert(cards.every((c) => c.diff), 'a card without the difference from the current plan');
  // demo01 has 선택약정 25%: the price after it on every on-sale card.
  const c0 = cards.find((c) => c.enabled);
  assert(c0.disc.includes(`${(Math.round((c0.fee * 0.75) / 10) * 10).toLocaleString('ko-KR')}원`), `discounted price "${c0.disc}" for ${c0.fee}`);
  await page.getByLabel('망').selectOption('LTE');
  const nets = await page.locator('.plan-cards > li:not([hidden])').evaluateAll((ls) => ls.map((l) => l.dataset.network));
  assert(nets.length > 0 && nets.every((n) => n === 'LTE'), `LTE filter shows ${nets}`);
  await page.getByLabel('월 요금').selectOption('low');
  const fees = await page.locator('.plan-cards > li:not([hidden])').evaluateAll((ls) => ls.map((l) => Number(l.dataset.fee)));
  assert(fees.every((f) => f < 50000), `price filter shows ${fees}`);
  await shot(page, '06-product-select-filtered');
  await page.getByLabel('망').selectOption('');
  await page.getByLabel('월 요금').selectOption('all');
  // "다음" stays in reach on a phone (sticky bar).
  const bar = await page.locator('.select-bar').boundingBox();
  assert(bar && bar.y + bar.height <= 800 + 1, `the "다음" bar is off screen at ${bar && bar.y}`);
  // Keyboard only: the filter, a plan (Space), Tab to "다음", Enter.
  await page.getByLabel('망').focus();
  await page.keyboard.press('ArrowDown');
  await page.locator('input[name="plan"]:enabled:visible').first().focus();
  await page.keyboard.press('Space');
  assert(await page.getByRole('button', { name: '다음' }).isEnabled(), 'Space did not choose the plan');
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement && document.activeElement.textContent === '다음')) break;
  }
  eq(await page.evaluate(() => document.activeElement.textContent), '다음', 'Tab reaches "다음"');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/products\/change$/);
});

test('plan-change-kos-hang', async (t) => {
  await requireService('products');
  if (!KOS) throw new Skip('PHONEBILL_E2E_KOS_URL not set (the hang comes from the simulator)');
  await resetSimulator();
  const page = await newPage(t);
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && /\/api\/v1\/products\/change$/.test(r.url())) posts.push(1); });
  let changed = false;
  try {
    await toChangeScreen(page, USERS.demo01, '^5G 스탠다드');
    await page.locator('.check-message .alert-success').waitFor();
    // KOS hangs on the order and on the first look-up after it.
    const f = await kos('POST', '/_sim/faults', { operation: 'product.change', mode: 'hang', hangMs: 6000, times: 2 });
    assert(f && f.success, `fault switch: ${JSON.stringify(f)}`);
    await page.getByRole('button', { name: '변경 신청' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '변경하기' }).click();
    changed = true;
    await page.locator('[data-testid="change-processing"]').waitFor({ timeout: 30000 });
    const busy = await text(page, 'main');
    assert(busy.includes('처리 중') && !busy.includes('실패'), `processing screen: ${busy}`);
    await shot(page, '08-product-processing');
    // A reload keeps following the same request.
    await page.reload();
    await page.locator('h1', { hasText: /요금제 변경 (처리 중|완료)/ }).waitFor();
    await page.locator('h1', { hasText: '요금제 변경 완료' }).waitFor({ timeout: 90000 });
    const res = await text(page, 'main');
    assert(res.includes('5G 스탠다드') && /주문 번호 \S+/.test(res) && /월 요금 [\d,]+원/.test(res), `result: ${res}`);
    eq(posts.length, 1, 'POST /products/change count (no second order)');
    eq(await page.evaluate(() => sessionStorage.getItem('pb.pendingChange')), null, 'pending change kept after the outcome');
    await shot(page, '08-product-result-after-hang');
    // "이번 달 요금 조회" opens the current month.
    const s = await apiLogin(USERS.demo01);
    const menu = await apiCall(s, 'GET', '/bills/menu');
    await s.api.dispose();
    await page.getByRole('link', { name: '이번 달 요금 조회' }).click();
    eq(await page.getByLabel('조회 월').inputValue(), menu.body.data.currentMonth, 'month after a change');
    await page.getByRole('button', { name: '조회하기' }).click();
    await page.locator('[data-testid="total-amount"]').waitFor();
    const [cy, cm] = menu.body.data.currentMonth.split('-');
    assert((await text(page, 'h1')).includes(`${cy}년 ${Number(cm)}월`), 'the bill after a change is not the current month');
    assert((await text(page, 'main')).includes('5G 스탠다드'), 'the bill after a change shows the old plan');
    // The change history lists it, completed.
    await page.evaluate(() => { window.location.hash = '#/products/history'; });
    const item = page.locator('[data-testid="change-history"] li').first();
    await item.waitFor();
    const it = (await item.innerText()).replace(/\s+/g, ' ');
    assert(it.includes('5G 스탠다드') && it.includes('변경 완료'), `history: ${it}`);
    await shot(page, '09-product-history');
    await page.evaluate(() => { window.location.hash = '#/bills/history'; });
    // History rows are written just after the answer: look again until it is there.
    let firstText = '';
    for (let i = 0; i < 20 && !firstText.includes(`${cy}년 ${Number(cm)}월 요금 조회`); i++) {
      if (i) await page.waitForTimeout(500);
      await page.evaluate(() => { window.location.hash = '#/main'; });
      await page.locator('[data-testid="line-number"]').waitFor();
      await page.evaluate(() => { window.location.hash = '#/bills/history'; });
      const first = page.locator('[data-testid="bill-history"] li').first();
      await first.waitFor();
      firstText = await first.innerText();
    }
    assert(firstText.includes(`${cy}년 ${Number(cm)}월 요금 조회`), `the inquiry just made is not first in the history: ${firstText}`);
    await shot(page, '09-bill-history');
  } finally {
    await kos('POST', '/_sim/faults/reset', {}).catch(() => {});
    if (changed) {
      try {
        const s = await apiLogin(USERS.demo01);
        await s.api.fetch(`${BASE}/api/v1/products/change`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${s.token}`, 'Idempotency-Key': crypto.randomUUID() },
          data: { lineNumber: '01012345678', currentProductCode: '5G-STANDARD-001', targetProductCode: '5G-PREMIUM-001' },
        });
        await s.api.dispose();
      } catch { /* the reset below still puts KOS back */ }
    }
    await resetSimulator();
  }
});

test('login-help-and-unlock-time', async (t) => {
  const page = await newPage(t);
  await page.goto(`${BASE}/#/login`);
  const help = await text(page, '.help-card');
  assert(help.includes('아이디') && help.includes('비밀번호') && help.includes('1599-0114'), `help: ${help}`);
  // The lock's end: the server's time + Retry-After, shown in KST.
  await page.route(/\/api\/v1\/auth\/login$/, (route) => route.fulfill({
    status: 401, contentType: 'application/json; charset=utf-8', headers: { 'Retry-After': '1200' },
    body: JSON.stringify({ success: false, error: { code: 'AUTH_003', message: 'x', details: 'y', timestamp: '2026-12-04T23:50:10+09:00' } }) }));
  await page.getByLabel('아이디').fill('someone');
  await page.getByLabel('비밀번호', { exact: true }).fill('whatever-1');
  await page.getByRole('button', { name: '로그인' }).click();
  const u = await text(page, '[data-testid="unlock-time"]');
  assert(u.includes('2026년 12월 5일 00:11'), `unlock time: ${u}`);
  await shot(page, '01-login-unlock-time');
});

// --- harness ---------------------------------------------------------------------

async function main() {
  // No fault switch left over from another suite.
  if (KOS) await kos('POST', '/_sim/faults/reset', {}).catch(() => {});
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  let passed = 0; let failed = 0; let skipped = 0;
  for (const tc of tests) {
    if (ONLY.length && !ONLY.includes(tc.name)) continue;
    const t = { name: tc.name, contexts: [], pageErrors: [], note: '' };
    try {
      await tc.fn(t);
      if (t.pageErrors.length) throw new Error(`page errors: ${t.pageErrors.join(' | ')}`);
      passed += 1;
      console.log(`PASS e2e ${tc.name}${t.note ? ` (${t.note})` : ''}`);
    } catch (e) {
      if (e instanceof Skip) {
        skipped += 1;
        console.log(`SKIP e2e ${tc.name}: ${e.message}`);
      } else {
        failed += 1;
        console.log(`FAIL e2e ${tc.name}: ${String(e && e.message || e).split('\n')[0]}`);
        for (const c of t.contexts) {
          for (const p of c.pages()) {
            try {
              fs.mkdirSync(SHOTS, { recursive: true });
              await p.screenshot({ path: path.join(SHOTS, `FAILED-${tc.name}.png`), fullPage: true });
            } catch { /* the page may be gone */ }
          }
        }
      }
    } finally {
      for (const c of t.contexts) await c.close().catch(() => {});
    }
  }
  if (cspViolations.length) {
    failed += 1;
    console.log(`FAIL e2e csp-violations: ${cspViolations.slice(0, 3).join(' | ')}`);
  }
  if (axeViolations.length) {
    failed += 1;
    console.log(`FAIL e2e axe: ${axeViolations.length} violations on ${axeScreens} screens: ${axeViolations.slice(0, 5).join(' | ')}`);
  } else if (axeScreens) {
    passed += 1;
    console.log(`PASS e2e axe (${axeScreens} screens, 0 violations)`);
  }
  await browser.close();
  console.log(`e2e: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL e2e harness: ${e && e.message}`);
  console.log('e2e: 0 passed, 1 failed, 0 skipped');
  process.exit(1);
});
