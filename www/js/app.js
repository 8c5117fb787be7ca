// app.js - the eight screens (docs PRODUCT.md SCR-001 … SCR-008) and a hash
// router.  Each screen is a function that fills <main>; what one screen
// hands to the next lives in `state`, in memory only, and is dropped at
// logout.

import * as api from './api.js';
import { h, put, clear, uid, won, monthText, dateText, dateTimeText, facts, loading, errorBox, button,
  PAYMENT_STATUS, LINE_STATUS, periodText, gauge, trendChart } from './ui.js';
import { CHECK_TEXT, KOS_CHANGE_TEXT, errorText } from './messages.js';

// Shown on failures that need a person (SCR-008).
const CUSTOMER_CENTRE = { name: '폰빌모바일 고객센터', phone: '1599-0114', hours: '평일 09:00~18:00' };

const main = document.getElementById('content');
const headerUser = document.getElementById('header-user');

let state = freshState();
let flash = null; // a message for the next screen: {kind, text}
let renderSeq = 0; // guards async screens against navigation in between

function freshState() {
  return { bill: { menu: null, month: '', result: null, summary: null }, product: { menu: null, target: null, pending: null, result: null } };
}

// A plan change whose outcome is not known yet (202 PROCESSING) survives a
// reload: {requestId, productName, previousName, since}.
const KEY_PENDING = 'pb.pendingChange';
function pendingChange() {
  try { return JSON.parse(window.sessionStorage.getItem(KEY_PENDING) || 'null'); } catch { return null; }
}
function setPendingChange(p) {
  if (p) window.sessionStorage.setItem(KEY_PENDING, JSON.stringify(p));
  else window.sessionStorage.removeItem(KEY_PENDING);
}

// --- routing -----------------------------------------------------------------

const ROUTES = {
  '/login': { screen: loginScreen, title: '로그인', public: true },
  '/main': { screen: mainScreen, title: '메인' },
  '/bills': { screen: billMenuScreen, title: '요금 조회', perm: 'BILL_INQUIRY' },
  '/bills/result': { screen: billResultScreen, title: '요금 조회 결과', perm: 'BILL_INQUIRY' },
  '/products': { screen: productMenuScreen, title: '상품 변경', perm: 'PRODUCT_CHANGE' },
  '/products/select': { screen: productSelectScreen, title: '요금제 선택', perm: 'PRODUCT_CHANGE' },
  '/products/change': { screen: productChangeScreen, title: '요금제 변경 신청', perm: 'PRODUCT_CHANGE' },
  '/products/result': { screen: productResultScreen, title: '요금제 변경 결과', perm: 'PRODUCT_CHANGE' },
  '/products/pending': { screen: productPendingScreen, title: '요금제 변경 처리 중', perm: 'PRODUCT_CHANGE' },
  '/products/history': { screen: productHistoryScreen, title: '요금제 변경 이력', perm: 'PRODUCT_CHANGE' },
  '/bills/history': { screen: billHistoryScreen, title: '요금 조회 이력', perm: 'BILL_INQUIRY' },
};

function currentPath() {
  const p = window.location.hash.replace(/^#/, '');
  return ROUTES[p] ? p : '';
}

export function go(path, replace) {
  if (replace) window.location.replace(`#${path}`);
  else window.location.hash = path;
}

async function route() {
  let path = currentPath();
  if (!path) { go(api.isLoggedIn() ? '/main' : '/login', true); return; }
  const r = ROUTES[path];
  if (!r.public && !api.isLoggedIn()) {
    // A page reached by the back button after logout shows nothing.
    state = freshState();
    go('/login', true);
    return;
  }
  if (r.public && api.isLoggedIn()) { go('/main', true); return; }
  const user = api.getUser();
  if (r.perm && user && !user.permissions.includes(r.perm)) {
    flash = { kind: 'error', text: '서비스 이용 권한이 없습니다' };
    go('/main', true);
    return;
  }
  renderHeader();
  for (const d of document.querySelectorAll('dialog.dialog')) d.remove();
  const seq = ++renderSeq;
  clear(main);
  document.title = `${r.title} | 폰빌모바일`;
  main.dataset.screen = path.slice(1).replace('/', '-');
  const ctx = { alive: () => seq === renderSeq };
  try {
    await r.screen(main, ctx);
  } catch (e) {
    if (!ctx.alive()) return;
    clear(main);
    put(main, errorBox('화면을 표시하지 못했습니다.', e, [button('다시 시도', route)]));
  }
}

function focusHeading() {
  const h1 = main.querySelector('h1');
  if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: false }); }
}

function renderHeader() {
  clear(headerUser);
  const user = api.getUser();
  if (!api.isLoggedIn() || !user) return;
  put(headerUser, 
    h('span.header-line', h('span.visually-hidden', '회선번호 '), user.lineNumber),
    button('로그아웃', doLogout, 'btn btn-small btn-ghost'));
}

async function doLogout() {
  state = freshState();
  setPendingChange(null);
  await api.logout();
  flash = { kind: 'info', text: '로그아웃되었습니다.' };
  renderHeader();
  go('/login', true);
}

api.onSessionLost((code) => {
  state = freshState();
  setPendingChange(null);
  flash = { kind: 'error', text: code === 'UNAUTHORIZED' ? '로그인이 필요합니다.' : '로그인 시간이 만료되었습니다. 다시 로그인해주세요.' };
  go('/login', true);
});

function flashBox() {
  if (!flash) return null;
  const f = flash;
  flash = null;
  return h(`div.alert.alert-${f.kind}`, { role: f.kind === 'error' ? 'alert' : 'status' }, h('p', f.text));
}

function screenHead(title, lead) {
  return [h('h1', title), lead ? h('p.lead', lead) : null];
}

function navButtons(...items) {
  return h('div.actions', items);
}

function linkButton(text, path, cls = 'btn btn-secondary') {
  return h(`a.${cls.split(' ').join('.')}`, { href: `#${path}` }, text);
}

// --- SCR-001 login -------------------------------------------------------------

function field({ label, type = 'text', name, autocomplete, hint, attrs = {} }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-error`;
  const input = h('input', { id, name, type, autocomplete, 'aria-describedby': [hintId, errId].filter(Boolean).join(' '), ...attrs });
  const err = h('p.field-error', { id: errId, hidden: true });
  const wrap = h('div.field', h('label', { for: id }, label), hint ? h('p.hint', { id: hintId }, hint) : null, input, err);
  return {
    wrap, input,
    setError(text) {
      err.textContent = text || '';
      err.hidden = !text;
      if (text) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    },
  };
}

function loginScreen(root) {
  const id = field({ label: '아이디', name: 'userId', autocomplete: 'username', attrs: { maxlength: 20, autocapitalize: 'none', spellcheck: 'false', required: true } });
  const pw = field({ label: '비밀번호', type: 'password', name: 'password', autocomplete: 'current-password', attrs: { maxlength: 50, required: true } });
  const autoId = uid('auto');
  const auto = h('input', { type: 'checkbox', id: autoId, name: 'autoLogin', 'aria-describedby': `${autoId}-hint` });
  const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, '로그인');
  const msg = h('div.form-message', { 'aria-live': 'assertive' });
  const form = h('form.card.login-card', { novalidate: true },
    id.wrap, pw.wrap,
    h('div.check', auto, h('label', { for: autoId }, '자동 로그인'),
      h('p.hint', { id: `${autoId}-hint` }, '이 기기에서 24시간 동안 로그인 상태를 유지합니다. 공용 기기에서는 사용하지 마세요.')),
    msg, submit);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(msg);
    const userId = id.input.value.trim();
    const password = pw.input.value;
    id.setError(userId ? '' : '아이디를 입력해주세요.');
    pw.setError(password ? '' : '비밀번호를 입력해주세요.');
    if (!userId) { id.input.focus(); return; }
    if (!password) { pw.input.focus(); return; }
    submit.disabled = true;
    submit.textContent = '로그인 중…';
    form.setAttribute('aria-busy', 'true');
    try {
      await api.login(userId, password, auto.checked);
      go('/main');
    } catch (e) {
      submit.disabled = false;
      submit.textContent = '로그인';
      form.removeAttribute('aria-busy');
      pw.input.value = '';
      const box = h('div.alert.alert-error', { role: 'alert', 'data-code': e.code || null });
      if (e.code === 'AUTH_002' || e.code === 'AUTH_003') {
        box.classList.add('alert-lock');
        const until = unlockTime(e);
        put(box, h('p.alert-title', e.message),
          until ? h('p', { 'data-testid': 'unlock-time' }, `${until}부터 다시 로그인할 수 있습니다.`) : null,
          h('p.alert-detail', '비밀번호가 기억나지 않으면 아래 안내에 따라 비밀번호를 다시 설정해주세요.'));
      } else if (e.code === 'AUTH_001') {
        put(box, h('p.alert-title', e.message));
        const left = api.remainingAttempts(e);
        if (left != null) {
          put(box, h('p.attempts', `남은 시도 횟수: ${left}회`),
            h('p.alert-detail', '5회 연속으로 틀리면 30분 동안 로그인할 수 없습니다.'));
        }
      } else if (e.code === 'VALIDATION_ERROR') {
        put(box, h('p.alert-title', 'ID 또는 비밀번호를 확인해주세요'));
      } else {
        put(box, h('p.alert-title', '로그인하지 못했습니다.'), h('p.alert-text', e.message));
      }
      put(msg, box);
      pw.input.focus();
    }
  });

  const help = h('div.card.help-card',
    h('h2', '아이디 · 비밀번호 찾기'),
    h('ul',
      h('li', '아이디는 가입할 때 받은 안내 문자나 계약서에서 확인할 수 있습니다.'),
      h('li', '비밀번호를 잊었거나 계정이 잠겼다면 신분증을 지참하고 가까운 폰빌모바일 대리점을 방문하거나 고객센터로 전화해 비밀번호를 다시 설정해주세요.'),
      h('li', h('span', `${CUSTOMER_CENTRE.name} `), h('a.tel', { href: `tel:${CUSTOMER_CENTRE.phone}` }, CUSTOMER_CENTRE.phone), ` (${CUSTOMER_CENTRE.hours})`)));

  put(root, h('section.screen.screen-narrow',
    h('div.brand-block', h('p.brand-mark', { 'aria-hidden': 'true' }, '폰빌'),
      ...screenHead('로그인', '요금 조회와 요금제 변경을 하려면 로그인해주세요.')),
    flashBox(), form, help));
  (id.input.value ? pw.input : id.input).focus();
}

/** "2026년 12월 5일 14:32" (KST) when a lock ends: the server's time + Retry-After. */
function unlockTime(e) {
  const secs = Number(e.retryAfter);
  const t = Date.parse(e.timestamp || '');
  if (!Number.isFinite(secs) || secs <= 0 || !Number.isFinite(t)) return '';
  const k = new Date(t + secs * 1000 + 59999 + 9 * 3600 * 1000); // KST as UTC fields, next full minute
  const p2 = (n) => String(n).padStart(2, '0');
  return `${k.getUTCFullYear()}년 ${k.getUTCMonth() + 1}월 ${k.getUTCDate()}일 ${p2(k.getUTCHours())}:${p2(k.getUTCMinutes())}`;
}

// --- SCR-002 main ----------------------------------------------------------------

async function mainScreen(root, ctx) {
  const box = h('section.screen');
  put(root, box);
  const body = h('div', loading('회원 정보를 불러오는 중입니다…'));
  const f = flashBox();
  put(box, ...screenHead('메인'), f, body);
  focusHeading();
  let user;
  try {
    user = await api.loadUser();
  } catch (e) {
    if (!ctx.alive()) return;
    clear(body);
    put(body, errorBox('회원 정보를 불러오지 못했습니다.', e, [button('다시 시도', () => route())]));
    return;
  }
  if (!ctx.alive()) return;
  renderHeader();
  clear(body);
  const h1 = box.querySelector('h1');
  h1.textContent = user.userName ? `${user.userName}님, 안녕하세요` : '안녕하세요';
  const canBill = user.permissions.includes('BILL_INQUIRY');
  const canChange = user.permissions.includes('PRODUCT_CHANGE');
  const banners = h('div.banners');
  const dash = h('div.dashboard');
  const pending = pendingChange();
  put(body,
    banners,
    pending ? h('div.alert.alert-info', { role: 'status', 'data-testid': 'pending-banner' },
      h('p.alert-title', `요금제 변경(${pending.productName || '요금제'})을 처리하고 있습니다.`),
      h('div.actions', linkButton('처리 결과 확인', '/products/pending', 'btn btn-primary btn-small'))) : null,
    h('div.card.line-card',
      h('p.line-label', '내 회선'),
      h('p.line-number', { 'data-testid': 'line-number' }, user.lineNumber || '-')),
    dash,
    h('h2.visually-hidden', '서비스'),
    h('ul.service-cards', { role: 'list' },
      serviceCard('요금 조회', '월별 청구 요금과 사용량, 납부 정보를 확인합니다.', '/bills', canBill, 'bill'),
      serviceCard('상품 변경', '지금 쓰는 요금제를 확인하고 다른 요금제로 바꿉니다.', '/products', canChange, 'product')),
    h('ul.history-links', { role: 'list' },
      canBill ? h('li', linkButton('요금 조회 이력', '/bills/history', 'link-plain')) : null,
      canChange ? h('li', linkButton('요금제 변경 이력', '/products/history', 'link-plain')) : null));
  if (canBill) put(dash, loading('이번 달 요금과 사용량을 불러오는 중입니다…'));
  // The dashboard: one summary call (from the bill cache) and, with the
  // permission, the line's status; either may fail on its own.
  const [sum, cust] = await Promise.allSettled([
    canBill ? freshSummary() : Promise.resolve(null),
    canChange ? api.productMenu(user.lineNumber) : Promise.resolve(null),
  ]);
  if (!ctx.alive()) return;
  if (cust.status === 'fulfilled' && cust.value) state.product.menu = cust.value;
  const summary = sum.status === 'fulfilled' ? sum.value : null;
  if (summary) state.bill.summary = summary;
  put(banners, lineBanners(cust.status === 'fulfilled' ? cust.value : null, summary));
  clear(dash);
  if (!canBill) return;
  if (!summary) {
    put(dash, errorBox('이번 달 요금 정보를 불러오지 못했습니다.', sum.reason, [button('다시 시도', () => route())]));
    return;
  }
  put(dash, dashboardCard(summary, cust.status === 'fulfilled' ? cust.value : null));
}

// The summary is kept for the session a few minutes: coming back to the
// main screen is not another recorded summary (a change drops it).
const SUMMARY_KEEP_MS = 5 * 60 * 1000;
async function freshSummary() {
  const s = state.bill.summary;
  if (s && Date.now() - s.loadedAt < SUMMARY_KEEP_MS) return s;
  const x = await api.billSummary(6);
  x.loadedAt = Date.now();
  return x;
}

/** Banners for a suspended line and for overdue bills, with what to do. */
function lineBanners(menu, summary) {
  const out = [];
  const od = summary && summary.overdue;
  if (menu && menu.lineStatus === 'SUSPENDED') {
    out.push(h('div.alert.alert-error', { role: 'alert', 'data-testid': 'suspended-banner' },
      h('p.alert-title', '회선이 이용정지 상태입니다.'),
      h('p', menu.statusReason && /미납/.test(menu.statusReason) ? '정지 사유: 요금 미납' : '정지 사유는 고객센터에서 확인할 수 있습니다.'),
      h('p', '이용정지 중에는 전화·문자·데이터를 쓸 수 없고 요금제를 변경할 수 없습니다. 미납 요금을 납부하면 보통 납부 확인 후 바로 정지가 풀립니다.'),
      h('p', `납부·정지 해제 문의: ${CUSTOMER_CENTRE.name} `, h('a.tel', { href: `tel:${CUSTOMER_CENTRE.phone}` }, CUSTOMER_CENTRE.phone), ` (${CUSTOMER_CENTRE.hours})`)));
  } else if (menu && menu.lineStatus === 'TERMINATED') {
    out.push(h('div.alert.alert-error', { role: 'alert', 'data-testid': 'terminated-banner' },
      h('p.alert-title', '해지된 회선입니다.'), h('p', '요금 납부와 증명서 발급은 고객센터로 문의해주세요.')));
  }
  if (od && od.count > 0) {
    out.push(h('div.alert.alert-warn', { role: 'note', 'data-testid': 'overdue-banner' },
      h('p.alert-title', `미납 요금 ${won(od.amount)}이 있습니다 (${od.count}건: ${od.months.map(monthText).join(', ')}).`),
      h('p', menu && menu.lineStatus === 'SUSPENDED'
        ? '납부 기한이 지난 요금입니다. 고객센터에서 납부하면 확인 후 이용정지가 해제됩니다.'
        : '납부 기한이 지난 요금입니다. 고객센터로 납부해주세요. 미납이 계속되면 이용이 정지될 수 있습니다.')));
  }
  return out;
}

function dashboardCard(sum, menu) {
  const b = sum.current;
  const card = h('div.card.dash-card', { 'data-testid': 'dashboard' }, h('h2', '이번 달 한눈에 보기'));
  if (!b) {
    put(card, h('p.muted', '이번 달 요금 정보가 아직 없습니다.'));
    return card;
  }
  const plan = (menu && menu.currentProduct && menu.currentProduct.name) || b.productName;
  put(card,
    h('div.dash-figures',
      h('div.dash-fig', h('p.dash-label', '요금제'), h('p.dash-value', { 'data-testid': 'dash-plan' }, plan)),
      h('div.dash-fig', h('p.dash-label', `${monthText(sum.currentMonth)} 사용 금액 (예상)`),
        h('p.dash-value.dash-big', { 'data-testid': 'dash-amount' }, won(b.totalAmount)),
        b.periodEnd ? h('p.dash-note', `${dateText(b.periodEnd)}까지 사용한 만큼 계산했습니다.`) : null)),
    h('div.gauges', { 'data-testid': 'gauges' },
      gauge('데이터', b.figures && b.figures.data, b.usage.data),
      gauge('통화', b.figures && b.figures.voice, b.usage.voice),
      gauge('문자', b.figures && b.figures.sms, b.usage.sms)),
    h('p.hint', '사용량은 통신사 집계 기준이며 실제와 몇 시간 차이가 날 수 있습니다.'));
  return card;
}

function serviceCard(title, desc, path, enabled, key) {
  if (enabled) {
    return h('li', h('a.service-card', { href: `#${path}`, 'data-card': key },
      h('span.service-title', title), h('span.service-desc', desc), h('span.service-go', { 'aria-hidden': 'true' }, '→')));
  }
  const noteId = uid('noperm');
  return h('li', h('div.service-card.is-disabled', { 'data-card': key, 'aria-disabled': 'true', 'aria-describedby': noteId },
    h('span.service-title', title), h('span.service-desc', desc),
    h('span.service-note', { id: noteId }, '서비스 이용 권한이 없습니다')));
}

// --- SCR-003 bill menu -------------------------------------------------------------

async function billMenuScreen(root, ctx) {
  const box = h('section.screen.screen-narrow');
  const body = h('div', loading('요금 조회 메뉴를 불러오는 중입니다…'));
  put(box, ...screenHead('요금 조회', '조회할 달을 고르세요. 이번 달은 오늘까지 사용한 금액(예상)이 나옵니다.'), flashBox(), body);
  put(root, box);
  focusHeading();
  let menu;
  try {
    menu = await api.billMenu();
  } catch (e) {
    if (!ctx.alive()) return;
    clear(body);
    put(body, errorBox('요금 조회 메뉴 로딩에 실패하였습니다', e, [button('다시 시도', () => route()), linkButton('메인으로', '/main')]));
    return;
  }
  if (!ctx.alive()) return;
  state.bill.menu = menu;
  clear(body);
  if (!menu.months.length) {
    put(body, facts([['회선번호', menu.lineNumber]]),
      h('div.alert.alert-info', { role: 'status' }, h('p', '조회할 수 있는 청구 내역이 없습니다.')),
      navButtons(linkButton('메인으로', '/main')));
    return;
  }
  const selId = uid('month');
  const select = h('select', { id: selId, name: 'inquiryMonth' },
    menu.months.map((m) => h('option', { value: m }, m === menu.currentMonth ? `${monthText(m)} (이번 달)` : monthText(m))));
  select.value = menu.months.includes(state.bill.month) ? state.bill.month : (menu.months.includes(menu.currentMonth) ? menu.currentMonth : menu.months[0]);
  const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, '조회하기');
  const msg = h('div.form-message', { 'aria-live': 'polite' });
  const form = h('form.card', { novalidate: true },
    facts([['회선번호', menu.lineNumber, 'mono']]),
    h('div.field', h('label', { for: selId }, '조회 월'), select),
    msg, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const month = select.value;
    state.bill.month = month;
    submit.disabled = true;
    select.disabled = true;
    submit.textContent = '조회 중…';
    clear(msg);
    put(msg, loading(`${monthText(month)} 요금을 조회하고 있습니다…`));
    try {
      const result = await api.billInquiry(menu.lineNumber, month);
      if (!ctx.alive()) return;
      state.bill.result = result;
      go('/bills/result');
    } catch (e) {
      if (!ctx.alive()) return;
      submit.disabled = false;
      select.disabled = false;
      submit.textContent = '조회하기';
      clear(msg);
      put(msg, errorBox('요금 조회 신청에 실패하였습니다', e));
    }
  });
  put(body, form, navButtons(linkButton('조회 이력', '/bills/history'), linkButton('메인으로', '/main')));
}

// --- SCR-004 bill result -------------------------------------------------------------

async function billResultScreen(root, ctx) {
  const b = state.bill.result;
  if (!b) { go('/bills', true); return; }
  const estimated = b.billStatus === 'ESTIMATED';
  const box = h('section.screen.screen-wide');
  put(box, ...screenHead(`${monthText(b.billingMonth)} 요금`));
  if (b.stale) {
    put(box, h('div.alert.alert-warn', { role: 'status', 'data-testid': 'stale-notice' },
      h('p.alert-title', '최신 정보를 가져오지 못해 저장된 요금 정보를 보여드립니다.'),
      h('p', b.cachedAt ? `${dateTimeText(b.cachedAt)} 기준 정보입니다. 잠시 후 다시 조회하면 최신 정보를 볼 수 있습니다.`
        : '잠시 후 다시 조회하면 최신 정보를 볼 수 있습니다.')));
  }
  const overdueBox = h('div.overdue-slot');
  const period = periodText(b.periodStart, b.periodEnd);
  const total = h('div.card.total-card',
    h('p.total-label', estimated ? '이번 달 사용 금액 (예상)' : '청구 금액'),
    h('p.total-amount', { 'data-testid': 'total-amount' }, won(b.totalAmount)),
    period ? h('p.total-period', { 'data-testid': 'bill-period' }, `사용 기간 ${period}`) : null,
    h('p.total-note', estimated ? '오늘까지 사용한 만큼 계산한 예상 금액이며, 달이 끝나면 확정되어 다음 달에 청구됩니다.' : '확정된 청구 금액입니다.'),
    facts([['청구 요금', won(b.totalCharge)], ['할인 합계', b.totalDiscount ? `- ${won(b.totalDiscount)}` : '해당 없음']], 'facts-inline'));

  const c = b.contract;
  const contractText = c.status === 'NONE' || !c.text ? '해당 없음 (약정 없음)'
    : c.status === 'EXPIRED' ? `${c.text} (만료)`
      : c.remainingMonths != null ? `${c.text} · 남은 기간 ${c.remainingMonths}개월${c.endDate ? ` (${dateText(c.endDate)}까지)` : ''}` : c.text;
  const plan = h('div.card.bill-plan',
    h('h2', '요금제와 약정'),
    facts([['요금제', b.productName], ['약정', contractText, 'contract'], ['청구 월', monthText(b.billingMonth)]]),
    b.charges.length ? [h('h3', '청구 내역'), amountList(b.charges, 'charges')] : null,
    h('h3', '할인 내역'),
    b.discounts.length ? amountList(b.discounts, 'discounts', true) : h('p.muted', '해당 없음 (적용된 할인이 없습니다)'));

  const usage = h('div.card.bill-usage',
    h('h2', '사용량'),
    h('p.hint', '요금제 기본 제공량 대비 사용량입니다.'),
    h('div.gauges', { 'data-testid': 'bill-gauges' },
      gauge('데이터', b.figures && b.figures.data, b.usage.data),
      gauge('통화', b.figures && b.figures.voice, b.usage.voice),
      gauge('문자', b.figures && b.figures.sms, b.usage.sms)));

  const payStatus = estimated ? '청구 전 (이번 달 사용 중)' : PAYMENT_STATUS[b.payment.status] || '확인 중';
  const pay = h('div.card.bill-pay',
    h('h2', '단말기 · 해지 · 납부'),
    facts([
      ['단말기 할부 잔여금', b.deviceRemaining ? `${won(b.deviceRemaining)}${b.deviceName ? ` (${b.deviceName}${b.deviceMonthsLeft != null ? `, ${b.deviceMonthsLeft}개월 남음` : ''})` : ''}` : '해당 없음'],
      ['예상 해지 위약금', b.terminationFee ? won(b.terminationFee) : '해당 없음'],
      [estimated ? '청구 예정일' : '청구일', b.payment.billingDate ? dateText(b.payment.billingDate) : ''],
      [estimated ? '납부 기한 (예정)' : '납부 기한', b.payment.dueDate ? dateText(b.payment.dueDate) : ''],
      ['납부 상태', payStatus, `status-${estimated ? 'estimated' : (b.payment.status || '').toLowerCase()}`],
      ['납부 방법', b.payment.method],
    ]));
  const trend = h('div.card.bill-trend', { 'data-testid': 'trend' }, h('h2', '최근 6개월 요금'), loading('최근 요금을 불러오는 중입니다…'));

  put(box, overdueBox, h('div.result-grid', total, plan, usage, pay, trend),
    navButtons(linkButton('다른 월 조회', '/bills', 'btn btn-primary'), linkButton('조회 이력', '/bills/history'), linkButton('메인으로', '/main')));
  put(root, box);
  focusHeading();

  // The trend and the overdue bills: one summary call, kept for the session.
  let sum = state.bill.summary;
  if (!sum) {
    try {
      sum = await freshSummary();
      state.bill.summary = sum;
    } catch (e) {
      if (!ctx.alive()) return;
      clear(trend);
      put(trend, h('h2', '최근 6개월 요금'), h('p.muted', '최근 요금 추이를 불러오지 못했습니다.'));
      return;
    }
  }
  if (!ctx.alive()) return;
  clear(trend);
  put(trend, trendBlock(sum, b.billingMonth));
  const od = sum.overdue;
  put(overdueBox, od.count > 0
    ? h('div.alert.alert-warn', { role: 'note', 'data-testid': 'overdue-notice' },
      h('p.alert-title', `미납 요금 ${won(od.amount)} (${od.months.map(monthText).join(', ')})`),
      h('p', '이 금액은 위 청구 금액과 별도로 납부해야 합니다. 납부 기한이 지나 미납 상태입니다.'))
    : null);
}

/** The six-month chart with the change against the month before. */
function trendBlock(sum, month) {
  const list = sum.months;
  const i = list.findIndex((x) => x.month === month);
  const cur = i >= 0 ? list[i] : null;
  const prev = i > 0 ? list[i - 1] : null;
  let cmp = '전월 대비: 비교할 수 없음';
  if (cur && prev && typeof cur.total === 'number' && typeof prev.total === 'number') {
    const d = cur.total - prev.total;
    cmp = d === 0 ? '전월 대비 변동 없음' : `전월 대비 ${won(Math.abs(d))} ${d > 0 ? '증가' : '감소'}`;
    if (cur.billStatus === 'ESTIMATED') cmp += ' (이번 달은 예상 금액)';
  }
  return [
    h('h2', '최근 6개월 요금'),
    h('p.trend-compare', { 'data-testid': 'trend-compare' }, cmp),
    h('figure.trend', trendChart(list),
      h('figcaption.visually-hidden', '월별 청구 금액')),
    h('ul.trend-list.visually-hidden', list.map((x) => h('li', `${monthText(x.month)}: ${typeof x.total === 'number' ? won(x.total) : '청구 없음'}`))),
  ];
}

function amountList(list, key, negative) {
  return h(`ul.amounts.amounts-${key}`, { role: 'list' },
    list.map((x) => h('li', h('span.amount-name', x.name), h('span.amount-value', negative ? `- ${won(x.amount)}` : won(x.amount)))));
}

// --- SCR-005 product menu ---------------------------------------------------------------

function planSummary(p, opts = {}) {
  if (!p) return h('p.muted', '등록된 요금제가 없습니다.');
  return h('div.plan-summary',
    h(opts.heading || 'p.plan-name', p.name),
    h('p.plan-fee', p.monthlyFee == null ? '' : `월 ${won(p.monthlyFee)}`),
    h('ul.allowances', { role: 'list' },
      h('li', h('span', '데이터'), h('strong', p.data || '-')),
      h('li', h('span', '통화'), h('strong', p.voice || '-')),
      h('li', h('span', '문자'), h('strong', p.sms || '-'))));
}

async function productMenuScreen(root, ctx) {
  const box = h('section.screen.screen-narrow');
  const body = h('div', loading('상품 변경 메뉴를 불러오는 중입니다…'));
  put(box, ...screenHead('상품 변경', '지금 쓰는 요금제를 확인하고 바꿀 요금제를 고르세요.'), flashBox(), body);
  put(root, box);
  focusHeading();
  const user = api.getUser();
  let menu;
  try {
    menu = await api.productMenu(user.lineNumber);
  } catch (e) {
    if (!ctx.alive()) return;
    clear(body);
    put(body, errorBox('상품 변경 요청 메뉴 로딩에 실패하였습니다', e, [button('다시 시도', () => route()), linkButton('메인으로', '/main')]));
    return;
  }
  if (!ctx.alive()) return;
  state.product.menu = menu;
  state.product.target = null;
  clear(body);
  const blocked = menu.lineStatus && menu.lineStatus !== 'ACTIVE';
  put(body,
    lineBanners(menu, state.bill.summary),
    h('div.card',
      h('h2', '고객 정보'),
      facts([['고객명', menu.customerName], ['회선번호', menu.lineNumber, 'mono'],
        ['회선 상태', LINE_STATUS[menu.lineStatus] || '확인 중', blocked ? 'status-overdue' : ''],
        ['약정', menu.contractActive ? `${menu.contractType || '약정'}${menu.contractMonthsLeft != null ? ` · 남은 기간 ${menu.contractMonthsLeft}개월` : ''}` : '해당 없음 (약정 없음)']])),
    h('div.card', h('h2', '현재 요금제'), planSummary(menu.currentProduct, { heading: 'p.plan-name' })),
    h('div.alert.alert-warn', { role: 'note' },
      h('p.alert-title', '변경 전에 확인하세요'),
      h('ul',
        menu.terminationFee ? h('li', `약정 기간 중입니다${menu.termEndDate ? ` (${dateText(menu.termEndDate)}까지)` : ''}. 요금제에 따라 약정 할인이 달라지거나 위약금(현재 예상 ${won(menu.terminationFee)})이 생길 수 있습니다.`)
          : h('li', '약정 중인 경우 요금제 변경으로 위약금이 생길 수 있습니다.'),
        h('li', '요금제 변경은 신청한 날부터 적용되고, 이번 달 요금은 변경된 요금제 기준으로 계산됩니다.'))),
    blocked
      ? h('div.alert.alert-error', { role: 'alert', 'data-testid': 'change-blocked' },
        h('p.alert-title', `${LINE_STATUS[menu.lineStatus] || '정상이 아닌'} 상태의 회선은 요금제를 변경할 수 없습니다.`),
        h('p', menu.lineStatus === 'SUSPENDED' ? '미납 요금을 납부해 이용정지가 풀린 뒤 다시 신청해주세요.' : '고객센터로 문의해주세요.'))
      : null,
    navButtons(blocked ? null : linkButton('요금제 선택하기', '/products/select', 'btn btn-primary'),
      linkButton('변경 이력', '/products/history'), linkButton('메인으로', '/main')));
}

// --- SCR-006 plan selection ----------------------------------------------------------------

/** The contract discount rate (0.25 for 선택약정 25%) from this month's bill, or 0. */
function contractRate() {
  const b = state.bill.summary && state.bill.summary.current;
  if (!b) return 0;
  for (const d of b.discounts) {
    const m = /약정[^()]*\((\d{1,2})%\)/.exec(d.name);
    if (m) return Number(m[1]) / 100;
  }
  return 0;
}

const PRICE_FILTERS = [
  { key: 'all', label: '전체', test: () => true },
  { key: 'low', label: '5만원 미만', test: (f) => f < 50000 },
  { key: 'mid', label: '5만~7만원', test: (f) => f >= 50000 && f < 70000 },
  { key: 'high', label: '7만원 이상', test: (f) => f >= 70000 },
];

async function productSelectScreen(root, ctx) {
  const menu = state.product.menu;
  if (!menu) { go('/products', true); return; }
  if (menu.lineStatus && menu.lineStatus !== 'ACTIVE') { go('/products', true); return; }
  const box = h('section.screen');
  const body = h('div', loading('변경할 수 있는 요금제를 불러오는 중입니다…'));
  put(box, ...screenHead('요금제 선택', '바꿀 요금제를 하나 고르세요. 판매 중인 요금제가 먼저 나옵니다.'), body);
  put(root, box);
  focusHeading();
  const current = menu.currentProduct;
  let plans;
  try {
    [plans] = await Promise.all([
      api.availableProducts(current && current.code),
      state.bill.summary || !api.getUser().permissions.includes('BILL_INQUIRY') ? null
        : freshSummary().then((x) => { state.bill.summary = x; }).catch(() => {}),
    ]);
  } catch (e) {
    if (!ctx.alive()) return;
    clear(body);
    put(body, errorBox('상품 변경 화면 접속에 실패하였습니다', e, [button('다시 시도', () => route()), linkButton('이전으로', '/products')]));
    return;
  }
  if (!ctx.alive()) return;
  clear(body);
  const rate = menu.contractActive ? contractRate() : 0;
  const next = h('button.btn.btn-primary', { type: 'submit', disabled: true }, '다음');
  const hint = h('p.hint.select-hint', { id: uid('selhint'), 'aria-live': 'polite' }, '요금제를 선택하면 다음 단계로 갈 수 있습니다.');
  next.setAttribute('aria-describedby', hint.id);
  const curFee = current && typeof current.monthlyFee === 'number' ? current.monthlyFee : null;
  const cards = plans.map((p) => {
    const id = uid('plan');
    const input = h('input', { type: 'radio', name: 'plan', id, value: p.code, disabled: !p.available });
    if (state.product.target && state.product.target.code === p.code && p.available) input.checked = true;
    const diff = curFee != null && typeof p.monthlyFee === 'number' ? p.monthlyFee - curFee : null;
    const li = h('li', { 'data-network': p.network, 'data-fee': p.monthlyFee ?? '' }, h('label.plan-card', { for: id, class: p.available ? '' : 'is-disabled' },
      input,
      h('span.plan-card-body',
        h('span.plan-name', p.name, p.network ? h('span.badge', p.network) : null),
        h('span.plan-fee', p.monthlyFee == null ? '' : `월 ${won(p.monthlyFee)}`),
        rate && typeof p.monthlyFee === 'number'
          ? h('span.plan-discounted', { 'data-testid': 'discounted' }, `약정 할인 적용 시 월 ${won(Math.round((p.monthlyFee * (1 - rate)) / 10) * 10)}`) : null,
        diff == null ? null : h('span.plan-diff', { 'data-testid': 'plan-diff', class: diff > 0 ? 'is-up' : diff < 0 ? 'is-down' : '' },
          diff === 0 ? '현재 요금제와 같은 요금' : `현재보다 월 ${won(Math.abs(diff))} ${diff > 0 ? '비쌈' : '저렴'}`),
        h('span.allowance-line', `데이터 ${p.data || '-'} · 통화 ${p.voice || '-'} · 문자 ${p.sms || '-'}`),
        p.available ? null : h('span.plan-note', '판매가 끝난 요금제라 변경할 수 없습니다'))));
    return { p, li };
  });
  const net = h('select', { id: uid('net'), name: 'network' },
    h('option', { value: '' }, '전체'), h('option', { value: '5G' }, '5G'), h('option', { value: 'LTE' }, 'LTE'));
  const price = h('select', { id: uid('price'), name: 'price' }, PRICE_FILTERS.map((f) => h('option', { value: f.key }, f.label)));
  const count = h('p.hint.filter-count', { 'aria-live': 'polite', 'data-testid': 'plan-count' });
  const filters = h('div.card.filters',
    h('div.field.field-inline', h('label', { for: net.id }, '망'), net),
    h('div.field.field-inline', h('label', { for: price.id }, '월 요금'), price),
    count);
  const applyFilters = () => {
    const pf = PRICE_FILTERS.find((f) => f.key === price.value) || PRICE_FILTERS[0];
    let shown = 0;
    for (const { p, li } of cards) {
      const ok = (!net.value || p.network === net.value) && pf.test(p.monthlyFee ?? 0);
      li.hidden = !ok;
      if (ok) shown += 1;
    }
    count.textContent = `요금제 ${shown}개`;
  };
  net.addEventListener('change', applyFilters);
  price.addEventListener('change', applyFilters);
  const form = h('form', { novalidate: true },
    h('div.card.current-plan', h('h2', '현재 요금제'), planSummary(current),
      rate ? h('p.hint', `지금 받는 약정 할인(${Math.round(rate * 100)}%)을 기준으로 할인 후 요금을 함께 보여드립니다.`) : null),
    filters,
    plans.length
      ? h('fieldset.plan-list', h('legend', '변경할 요금제'), h('ul.plan-cards', { role: 'list' }, cards.map((x) => x.li)))
      : h('div.alert.alert-info', { role: 'status' }, h('p', '지금 변경할 수 있는 요금제가 없습니다.')),
    h('div.select-bar', hint, h('div.actions', next)),
    h('div.actions', linkButton('이전으로', '/products')));
  const update = () => {
    const sel = form.querySelector('input[name="plan"]:checked');
    next.disabled = !sel;
    hint.textContent = sel ? `선택한 요금제: ${plans.find((p) => p.code === sel.value).name}` : '요금제를 선택하면 다음 단계로 갈 수 있습니다.';
  };
  form.addEventListener('change', update);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const sel = form.querySelector('input[name="plan"]:checked');
    if (!sel) return;
    state.product.target = plans.find((p) => p.code === sel.value);
    state.product.pending = null;
    go('/products/change');
  });
  put(body, form);
  applyFilters();
  update();
}

// --- SCR-007 change request ------------------------------------------------------------------

const CHECK_LABEL = { PRODUCT_AVAILABLE: '판매 중인 요금제인지 확인', OPERATOR_MATCH: '같은 사업자의 요금제인지 확인', LINE_STATUS: '회선 상태 확인' };
const CHECK_ORDER = ['PRODUCT_AVAILABLE', 'OPERATOR_MATCH', 'LINE_STATUS'];
const STEP_MS = 350;

function productChangeScreen(root, ctx) {
  const menu = state.product.menu;
  const target = state.product.target;
  if (!menu || !target) { go(menu ? '/products/select' : '/products', true); return; }
  const current = menu.currentProduct || {};
  const diff = typeof target.monthlyFee === 'number' && typeof current.monthlyFee === 'number' ? target.monthlyFee - current.monthlyFee : null;

  const rows = new Map(CHECK_ORDER.map((t) => {
    const status = h('span.check-status', '대기');
    const msg = h('span.check-msg');
    const li = h('li.check.is-waiting', { 'data-check': t }, h('span.check-icon', { 'aria-hidden': 'true' }), h('span.check-text', h('span.check-label', CHECK_LABEL[t]), msg), status);
    return [t, { li, status, msg }];
  }));
  const setRow = (t, kind, text, message) => {
    let r = rows.get(t);
    if (!r) {
      const status = h('span.check-status');
      const msg = h('span.check-msg');
      const li = h('li.check', { 'data-check': t }, h('span.check-icon', { 'aria-hidden': 'true' }), h('span.check-text', h('span.check-label', t), msg), status);
      put(checkList, li);
      r = { li, status, msg };
      rows.set(t, r);
    }
    r.li.className = `check is-${kind}`;
    r.status.textContent = text;
    r.msg.textContent = message || '';
  };
  const checkList = h('ol.checks', [...rows.values()].map((r) => r.li));
  const checkMsg = h('div.check-message', { 'aria-live': 'polite' });
  const recheck = button('사전 체크 다시 하기', () => runCheck(), 'btn btn-secondary');
  recheck.hidden = true;
  const submit = h('button.btn.btn-primary', { type: 'button', disabled: true }, '변경 신청');
  const submitMsg = h('div.form-message', { 'aria-live': 'assertive' });

  const box = h('section.screen.screen-narrow',
    ...screenHead('요금제 변경 신청'),
    h('div.card.compare',
      h('div.compare-side', h('p.compare-label', '현재 요금제'), h('p.compare-name', current.name || '-'), h('p.compare-fee', current.monthlyFee == null ? '' : `월 ${won(current.monthlyFee)}`)),
      h('p.compare-arrow', { 'aria-hidden': 'true' }, '→'),
      h('div.compare-side.compare-target', h('p.compare-label', '변경할 요금제'), h('p.compare-name', target.name), h('p.compare-fee', target.monthlyFee == null ? '' : `월 ${won(target.monthlyFee)}`)),
      diff == null ? null : h('p.compare-diff', diff === 0 ? '월 요금 변동 없음' : diff > 0 ? `월 ${won(diff)} 늘어납니다` : `월 ${won(-diff)} 줄어듭니다`)),
    h('div.alert.alert-warn', { role: 'note' },
      h('p.alert-title', '유의사항'),
      h('ul',
        h('li', '변경은 신청 즉시 적용되며, 이번 달 요금은 변경된 요금제 기준으로 계산됩니다.'),
        h('li', '약정 할인과 결합 할인은 바뀐 요금제에 따라 달라질 수 있습니다.'),
        menu.terminationFee ? h('li', `약정 기간 중입니다. 예상 해지 위약금은 ${won(menu.terminationFee)}입니다.`) : null,
        h('li', '변경 신청 후에는 이 화면에서 취소할 수 없습니다.'))),
    h('div.card',
      h('h2', '사전 체크'),
      h('p.hint', '변경할 수 있는지 세 가지를 확인합니다. 모두 통과해야 신청할 수 있습니다.'),
      checkList, checkMsg, recheck),
    submitMsg,
    h('div.actions', submit, linkButton('다른 요금제 선택', '/products/select')));
  put(root, box);
  focusHeading();

  let passed = false;
  async function runCheck() {
    passed = false;
    submit.disabled = true;
    recheck.hidden = true;
    clear(checkMsg);
    for (const t of CHECK_ORDER) setRow(t, 'waiting', '대기', '');
    setRow(CHECK_ORDER[0], 'running', '확인 중…', '');
    put(checkMsg, loading('사전 체크를 진행하고 있습니다…'));
    let res;
    try {
      res = await api.validateChange(menu.lineNumber, current.code, target.code);
    } catch (e) {
      if (!ctx.alive()) return;
      for (const t of CHECK_ORDER) setRow(t, 'waiting', '대기', '');
      clear(checkMsg);
      put(checkMsg, errorBox('사전 체크를 하지 못했습니다.', e));
      recheck.hidden = false;
      return;
    }
    // Show the items one after another, as the checks are listed.
    const byType = new Map(res.items.map((x) => [x.type, x]));
    const order = CHECK_ORDER.concat(res.items.map((x) => x.type).filter((t) => !CHECK_ORDER.includes(t)));
    for (let i = 0; i < order.length; i++) {
      const t = order[i];
      if (!ctx.alive()) return;
      setRow(t, 'running', '확인 중…', '');
      await new Promise((r) => setTimeout(r, STEP_MS));
      if (!ctx.alive()) return;
      const x = byType.get(t);
      const words = CHECK_TEXT[t] || { PASS: '', FAIL: '' };
      if (!x) setRow(t, 'skipped', '결과 없음', '');
      else if (x.result === 'PASS') setRow(t, 'pass', '통과', words.PASS);
      else setRow(t, 'fail', '실패', words.FAIL || '확인 결과 변경할 수 없습니다.');
    }
    clear(checkMsg);
    passed = res.passed;
    if (passed) {
      put(checkMsg, h('div.alert.alert-success', { role: 'status' }, h('p.alert-title', '사전 체크를 모두 통과했습니다. 변경을 신청할 수 있습니다.')));
      submit.disabled = false;
    } else {
      const failed = res.items.filter((x) => x.result !== 'PASS').map((x) => (CHECK_TEXT[x.type] || {}).FAIL).filter(Boolean);
      put(checkMsg, h('div.alert.alert-error', { role: 'alert', 'data-testid': 'precheck-failed' },
        h('p.alert-title', '상품 사전 체크에 실패하였습니다'),
        failed.length ? h('ul', failed.map((m) => h('li', m))) : null,
        h('p.alert-detail', '다른 요금제를 고르거나, 회선 상태를 확인한 뒤 다시 시도해주세요.')));
      recheck.hidden = false;
    }
  }

  const dialog = confirmDialog(current, target);
  submit.addEventListener('click', async () => {
    if (!passed) return;
    const ok = await dialog.ask();
    if (!ok || !ctx.alive()) return;
    // One key per confirmed submission; a retry of the same submission reuses it.
    if (!state.product.pending || state.product.pending.target !== target.code) {
      state.product.pending = { key: api.newIdempotencyKey(), target: target.code };
    }
    await sendChange();
  });

  async function sendChange() {
    submit.disabled = true;
    submit.textContent = '신청 중…';
    clear(submitMsg);
    put(submitMsg, loading('요금제 변경을 처리하고 있습니다. 창을 닫지 마세요…'));
    try {
      const r = await api.changeProduct(menu.lineNumber, current.code, target.code, state.product.pending.key);
      if (!ctx.alive()) return;
      state.product.pending = null;
      if (r.status === 'PROCESSING' && r.requestId) {
        // Not a failure: KOS has not said yet.  Follow it, also across a reload.
        setPendingChange({ requestId: r.requestId, productName: target.name, previousName: current.name, monthlyFee: target.monthlyFee ?? null, since: Date.now() });
        go('/products/pending');
        return;
      }
      state.product.result = { ok: true, ...r, productName: r.productName || target.name, monthlyFee: r.monthlyFee ?? target.monthlyFee, previousName: current.name };
      go('/products/result');
    } catch (e) {
      if (!ctx.alive()) return;
      if (e.code === 'CHANGE_REJECTED' || e.code === 'PRECHECK_FAILED' || e.code === 'FORBIDDEN' || e.code === 'VALIDATION_ERROR') {
        state.product.result = { ok: false, code: e.code, kosCode: api.refusalCode(e), targetName: target.name };
        state.product.pending = null;
        go('/products/result');
        return;
      }
      // KOS did not make the change (503) or the answer was lost: the same
      // key is sent again on retry, so no second order can be made.
      submit.textContent = '변경 신청';
      clear(submitMsg);
      put(submitMsg, errorBox('요금제 변경을 신청하지 못했습니다. 요금제는 바뀌지 않았습니다.', e, [button('다시 시도', () => sendChange(), 'btn btn-primary')]));
    }
  }

  runCheck();
}

function confirmDialog(current, target) {
  const yes = h('button.btn.btn-primary', { type: 'submit', value: 'yes' }, '변경하기');
  const no = h('button.btn.btn-secondary', { type: 'submit', value: 'no' }, '취소');
  const titleId = uid('dlg');
  const dialog = h('dialog.dialog', { 'aria-labelledby': titleId },
    h('form', { method: 'dialog' },
      h('h2', { id: titleId }, '요금제를 변경할까요?'),
      h('p', `${current.name || '현재 요금제'} → ${target.name}`),
      h('p.hint', '신청하면 바로 적용되며 이 화면에서 취소할 수 없습니다.'),
      h('div.actions', yes, no)));
  document.body.append(dialog);
  return {
    ask() {
      return new Promise((resolve) => {
        dialog.returnValue = '';
        dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
        dialog.showModal();
        no.focus();
      });
    },
  };
}

// --- SCR-008 result ----------------------------------------------------------------------------

function remedyFor(code, kos) {
  if (kos === '2002') return '회선이 이용정지 또는 해지 상태입니다. 미납으로 이용정지된 경우 요금을 납부하면 정지가 풀리고, 그 뒤에 다시 신청할 수 있습니다.';
  if (kos === '2004' || kos === '2003') return '지금 판매 중인 다른 요금제를 선택해주세요.';
  if (kos === '2005') return '폰빌모바일 요금제 중에서 다시 선택해주세요.';
  if (code === 'PRECHECK_FAILED') return '요금제 정보나 회선 상태가 바뀌었을 수 있습니다. 상품 변경 메뉴에서 처음부터 다시 시도해주세요.';
  if (code === 'FORBIDDEN') return '본인 회선만 변경할 수 있습니다. 다시 로그인한 뒤 시도해주세요.';
  return '잠시 후 다시 시도하거나 고객센터로 문의해주세요.';
}

function changeDone(box, r) {
  put(box, ...screenHead('요금제 변경 완료'),
    h('div.alert.alert-success', { role: 'status' }, h('p.alert-title', '상품 변경이 완료되었습니다')),
    h('div.card',
      facts([
        ['변경 전 요금제', r.previousName],
        ['변경된 요금제', r.productName, 'strong'],
        ['월 요금', r.monthlyFee == null ? '' : won(r.monthlyFee)],
        ['적용일', r.effectiveDate ? dateText(r.effectiveDate) : ''],
        ['주문 번호', r.orderNumber, 'mono'],
      ])),
    navButtons(linkButton('이번 달 요금 조회', '/bills', 'btn btn-secondary'), linkButton('변경 이력', '/products/history'), linkButton('메인으로', '/main', 'btn btn-primary')));
  // What was loaded before the change is out of date now; the bill menu
  // opens on the current month.
  state.product.menu = null;
  state.product.target = null;
  state.bill.result = null;
  state.bill.summary = null;
  state.bill.month = '';
}

function changeFailed(box, r) {
  const what = r.kosCode && KOS_CHANGE_TEXT[r.kosCode] ? KOS_CHANGE_TEXT[r.kosCode]
    : r.code === 'SERVICE_UNAVAILABLE' ? '통신사 시스템 장애로 변경되지 않았습니다. 요금제는 그대로입니다.'
      : errorText(r.code || 'CHANGE_REJECTED');
  put(box, ...screenHead('요금제 변경 실패'),
    h('div.alert.alert-error', { role: 'alert' },
      h('p.alert-title', '상품 변경에 실패하였습니다'),
      h('p', { 'data-testid': 'failure-reason' }, what)),
    h('div.card',
      h('h2', '이렇게 해보세요'),
      h('p', remedyFor(r.code, r.kosCode)),
      h('h2', '도움이 필요하면'),
      h('p', `${CUSTOMER_CENTRE.name} `, h('a.tel', { href: `tel:${CUSTOMER_CENTRE.phone}` }, CUSTOMER_CENTRE.phone), ` (${CUSTOMER_CENTRE.hours})`)),
    navButtons(linkButton('상품 변경 처음으로', '/products', 'btn btn-primary'), linkButton('메인으로', '/main')));
}

function productResultScreen(root) {
  const r = state.product.result;
  if (!r) { go('/products', true); return; }
  const box = h('section.screen.screen-narrow');
  if (r.ok) changeDone(box, r);
  else changeFailed(box, r);
  put(root, box);
  focusHeading();
}

// Polling a change KOS has not answered yet: 1, 2, 3, 5, 8, 10, 10 … s,
// for at most POLL_LIMIT_MS; then the customer is told where to look.
const POLL_STEPS_MS = [1000, 2000, 3000, 5000, 8000, 10000];
const POLL_LIMIT_MS = 180000;

async function productPendingScreen(root, ctx) {
  const p = pendingChange();
  if (!p) { go(state.product.result ? '/products/result' : '/products', true); return; }
  const box = h('section.screen.screen-narrow');
  const status = h('div', { 'aria-live': 'polite' });
  put(box, ...screenHead('요금제 변경 처리 중'),
    h('div.card.pending-card', { 'data-testid': 'change-processing' },
      h('p.pending-title', h('span.spinner', { 'aria-hidden': 'true' }), h('span', '처리 중')),
      h('p', `${p.previousName || '현재 요금제'} → ${p.productName || '새 요금제'}`),
      h('p.hint', '통신사 시스템의 응답이 늦어 결과를 확인하고 있습니다. 신청은 접수되었으니 다시 신청하지 마세요. 이 화면을 닫거나 새로 고쳐도 결과를 이어서 확인합니다.')),
    status);
  put(root, box);
  focusHeading();
  const started = Date.now();
  for (let i = 0; ; i++) {
    let r = null;
    try {
      r = await api.changeStatus(p.requestId);
    } catch (e) {
      if (!ctx.alive()) return;
      if (e.code === 'NOT_FOUND') { setPendingChange(null); clear(status); put(status, errorBox('변경 요청을 찾을 수 없습니다.', e, [linkButton('변경 이력', '/products/history')])); return; }
    }
    if (!ctx.alive()) return;
    if (r && r.status === 'COMPLETED') {
      setPendingChange(null);
      state.product.result = { ok: true, ...r, productName: r.productName || p.productName, previousName: r.previousName || p.previousName, monthlyFee: r.monthlyFee ?? p.monthlyFee ?? null };
      go('/products/result', true);
      return;
    }
    if (r && r.status === 'FAILED') {
      setPendingChange(null);
      state.product.result = { ok: false, code: r.kosCode ? 'CHANGE_REJECTED' : 'SERVICE_UNAVAILABLE', kosCode: r.kosCode, targetName: p.productName };
      go('/products/result', true);
      return;
    }
    if (Date.now() - started > POLL_LIMIT_MS) break;
    await new Promise((res) => setTimeout(res, POLL_STEPS_MS[Math.min(i, POLL_STEPS_MS.length - 1)]));
    if (!ctx.alive()) return;
  }
  clear(status);
  put(status, h('div.alert.alert-warn', { role: 'status', 'data-testid': 'still-processing' },
    h('p.alert-title', '아직 결과가 나오지 않았습니다.'),
    h('p', '신청은 접수되어 있으며 결과가 나오면 변경 이력에 표시됩니다. 잠시 후 다시 확인해주세요.'),
    h('div.actions', button('다시 확인', () => route(), 'btn btn-primary'), linkButton('변경 이력', '/products/history'))));
}

const CHANGE_STATUS = { COMPLETED: '변경 완료', PROCESSING: '처리 중', FAILED: '변경 실패' };
const BILL_REQ_STATUS = { COMPLETED: '조회 완료', PROCESSING: '처리 중', FAILED: '조회 실패' };

async function productHistoryScreen(root, ctx) {
  const box = h('section.screen.screen-narrow');
  const body = h('div', loading('변경 이력을 불러오는 중입니다…'));
  put(box, ...screenHead('요금제 변경 이력', '최근 요금제 변경 신청과 결과입니다.'), body);
  put(root, box);
  focusHeading();
  let list;
  try {
    list = await api.productHistory(20);
  } catch (e) {
    if (!ctx.alive()) return;
    clear(body);
    put(body, errorBox('변경 이력을 불러오지 못했습니다.', e, [button('다시 시도', () => route())]));
    return;
  }
  if (!ctx.alive()) return;
  clear(body);
  put(body,
    list.items.length
      ? h('ol.history', { 'data-testid': 'change-history' }, list.items.map((x) => h('li.card.history-item', { 'data-status': x.status },
        h('p.history-head', h('span.history-title', `${x.previousName || '-'} → ${x.productName || '-'}`),
          h(`span.chip.chip-${(x.status || '').toLowerCase()}`, CHANGE_STATUS[x.status] || '확인 중')),
        facts([['신청 일시', dateTimeText(x.requestedAt)], ['적용일', x.effectiveDate ? dateText(x.effectiveDate) : ''], ['주문 번호', x.orderNumber, 'mono']]))))
      : h('p.muted', '요금제 변경 이력이 없습니다.'),
    navButtons(linkButton('상품 변경', '/products', 'btn btn-primary'), linkButton('메인으로', '/main')));
}

async function billHistoryScreen(root, ctx) {
  const box = h('section.screen.screen-narrow');
  const body = h('div', loading('조회 이력을 불러오는 중입니다…'));
  put(box, ...screenHead('요금 조회 이력', '최근에 조회한 요금 내역입니다.'), body);
  put(root, box);
  focusHeading();
  let list;
  try {
    list = await api.billHistory(100);
  } catch (e) {
    if (!ctx.alive()) return;
    clear(body);
    put(body, errorBox('조회 이력을 불러오지 못했습니다.', e, [button('다시 시도', () => route())]));
    return;
  }
  if (!ctx.alive()) return;
  clear(body);
  // The main screen's summaries are recorded too; the customer asked for the inquiries.
  const inquiries = list.items.filter((x) => !x.summary).slice(0, 20);
  const hidden = list.items.length - list.items.filter((x) => !x.summary).length;
  put(body,
    hidden ? h('p.hint', { 'data-testid': 'summary-note' }, `메인 화면에서 요금 요약을 불러온 기록 ${hidden}건은 목록에서 뺐습니다.`) : null,
    inquiries.length
      ? h('ol.history', { 'data-testid': 'bill-history' }, inquiries.map((x) => h('li.card.history-item', { 'data-status': x.status },
        h('p.history-head', h('span.history-title', `${monthText(x.month)} 요금 조회`),
          h(`span.chip.chip-${(x.status || '').toLowerCase()}`, BILL_REQ_STATUS[x.status] || '확인 중')),
        facts([['조회 일시', dateTimeText(x.requestTime)]]))))
      : h('p.muted', '요금 조회 이력이 없습니다.'),
    navButtons(linkButton('요금 조회', '/bills', 'btn btn-primary'), linkButton('메인으로', '/main')));
}

// --- start ------------------------------------------------------------------------------------

window.addEventListener('hashchange', route);
// A page restored from the back/forward cache after logout must not show data.
window.addEventListener('pageshow', (ev) => { if (ev.persisted && !api.isLoggedIn()) { clear(main); route(); } });

(async () => {
  if (!api.isLoggedIn()) await api.resumeAutoLogin();
  route();
})();
