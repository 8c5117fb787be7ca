// ui.js - small DOM helpers and Korean formats.  Text always goes in as text
// (textContent), never as HTML, so nothing the server sends can become markup.

/**
 * h('p.note', {id: 'x', onclick: fn}, 'text', child, ...) → element.
 * Attributes: class names after '.', `on*` functions become listeners,
 * `true` sets a boolean attribute, `false`/null/undefined leave it out.
 */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** el.append(...) that skips null/false and flattens arrays. */
export function put(el, ...children) { append(el, children); return el; }

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

let seq = 0;
export function uid(prefix) { seq += 1; return `${prefix}-${seq}`; }

/** 134346 → "134,346원"; null → "-". */
export function won(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '-';
  return `${n.toLocaleString('ko-KR')}원`;
}

/** "2026-11" → "2026년 11월". */
export function monthText(m) {
  const x = /^(\d{4})-(\d{2})$/.exec(m || '');
  return x ? `${x[1]}년 ${Number(x[2])}월` : m || '-';
}

/** "2026-12-05" (or an RFC 3339 time) → "2026년 12월 5일". */
export function dateText(s) {
  const x = /^(\d{4})-(\d{2})-(\d{2})/.exec(s || '');
  return x ? `${x[1]}년 ${Number(x[2])}월 ${Number(x[3])}일` : s || '-';
}

/** RFC 3339 → "2026년 11월 24일 13:16" (the time as the server wrote it). */
export function dateTimeText(s) {
  const x = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(s || '');
  return x ? `${x[1]}년 ${Number(x[2])}월 ${Number(x[3])}일 ${x[4]}:${x[5]}` : s || '';
}

export const PAYMENT_STATUS = { PAID: '납부 완료', UNPAID: '납부 예정', OVERDUE: '미납(연체)' };
// A suspension here is the carrier's (non-payment or a request): 이용정지.
export const LINE_STATUS = { ACTIVE: '정상', SUSPENDED: '이용정지', TERMINATED: '해지' };

/** "2026-12-01", "2026-12-05" → "2026년 12월 1일 ~ 12월 5일". */
export function periodText(a, b) {
  const x = /^(\d{4})-(\d{2})-(\d{2})/.exec(a || '');
  const y = /^(\d{4})-(\d{2})-(\d{2})/.exec(b || '');
  if (!x) return '';
  const from = `${x[1]}년 ${Number(x[2])}월 ${Number(x[3])}일`;
  if (!y) return `${from}부터`;
  return `${from} ~ ${y[1] !== x[1] ? `${y[1]}년 ` : ''}${Number(y[2])}월 ${Number(y[3])}일`;
}

/** An amount of a usage figure: 5632 MB → "5.5GB", 120 분 → "120분". */
export function usageAmount(v, unit) {
  if (unit === 'MB') return v >= 1024 ? `${(Math.round((v / 1024) * 10) / 10).toLocaleString('ko-KR')}GB` : `${v}MB`;
  return `${v.toLocaleString('ko-KR')}${unit}`;
}

/**
 * A gauge: "데이터  6GB 중 5.5GB" with a bar (role=meter semantics through
 * text; the bar itself is decoration).  f = {used, allowance|null, unit}.
 */
export function gauge(label, f, fallbackText) {
  if (!f) {
    return h('div.gauge', h('p.gauge-head', h('span.gauge-label', label), h('span.gauge-value', fallbackText || '-')));
  }
  const unlimited = f.allowance == null;
  const pct = unlimited ? 0 : f.allowance > 0 ? Math.min(100, Math.round((f.used / f.allowance) * 100)) : 100;
  const value = unlimited ? `${usageAmount(f.used, f.unit)} 사용` : `${usageAmount(f.allowance, f.unit)} 중 ${usageAmount(f.used, f.unit)}`;
  const bar = h('span.gauge-fill');
  bar.classList.add(`w-${Math.round(pct / 5) * 5}`);
  if (pct >= 90) bar.classList.add('is-high');
  return h('div.gauge', { 'data-gauge': label },
    h('p.gauge-head', h('span.gauge-label', label), h('span.gauge-value', value)),
    unlimited ? h('p.gauge-note', '무제한 요금제입니다')
      : h('span.gauge-bar', { 'aria-hidden': 'true' }, bar),
    unlimited ? null : h('p.gauge-note', f.used > f.allowance ? `기본 제공량을 ${usageAmount(f.used - f.allowance, f.unit)} 넘었습니다` : `남은 양 ${usageAmount(f.allowance - f.used, f.unit)} (${pct}% 사용)`));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

/**
 * A small bar chart of monthly totals (inline SVG, no library): months =
 * [{month, total}], the last one highlighted.  The figures are also in a
 * list for screen readers; the SVG is aria-hidden.
 */
export function trendChart(months) {
  const W = 320; const H = 150; const top = 22; const base = 124; const n = Math.max(months.length, 1);
  const max = Math.max(1, ...months.map((x) => x.total || 0));
  const slot = W / n; const bw = Math.min(34, slot * 0.55);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'trend-svg', 'aria-hidden': 'true', focusable: 'false' });
  chart.append(svg('line', { x1: 0, y1: base, x2: W, y2: base, class: 'trend-axis' }));
  months.forEach((x, i) => {
    const cx = slot * i + slot / 2;
    const m = /^(\d{4})-(\d{2})$/.exec(x.month || '');
    const label = m ? `${Number(m[2])}월` : x.month;
    if (typeof x.total === 'number') {
      const hgt = Math.max(2, Math.round(((base - top) * x.total) / max));
      chart.append(svg('rect', { x: cx - bw / 2, y: base - hgt, width: bw, height: hgt, rx: 3,
        class: i === months.length - 1 ? 'trend-bar is-current' : 'trend-bar' }));
      chart.append(svg('text', { x: cx, y: base - hgt - 6, 'text-anchor': 'middle', class: 'trend-value' },
        `${Math.round(x.total / 1000).toLocaleString('ko-KR')}천`));
    }
    chart.append(svg('text', { x: cx, y: base + 18, 'text-anchor': 'middle', class: 'trend-label' }, label));
  });
  return chart;
}

/** A definition list from [label, value] pairs (empty values are left out). */
export function facts(rows, cls) {
  const dl = h(cls ? `dl.facts.${cls}` : 'dl.facts');
  for (const [label, value, valueClass] of rows) {
    if (value == null || value === '') continue;
    dl.append(h('div.fact', h('dt', label), h(valueClass ? `dd.${valueClass}` : 'dd', value)));
  }
  return dl;
}

/** A spinner with text; role=status so screen readers hear it. */
export function loading(text) {
  return h('div.loading', { role: 'status' }, h('span.spinner', { 'aria-hidden': 'true' }), h('span', text || '불러오는 중입니다…'));
}

/**
 * An error box: the screen's Korean title and the Korean sentence of the
 * error's code (messages.js); the server's own text is never shown.
 */
export function errorBox(title, err, actions) {
  const wait = err && err.retryAfter && /^\d+$/.test(err.retryAfter) && Number(err.retryAfter) <= 600
    ? `${Number(err.retryAfter) >= 60 ? `${Math.ceil(Number(err.retryAfter) / 60)}분` : `${err.retryAfter}초`} 뒤에 다시 시도할 수 있습니다.` : '';
  return h('div.alert.alert-error', { role: 'alert', 'data-code': err && err.code ? err.code : null },
    h('p.alert-title', title),
    err && err.message && err.message !== title ? h('p.alert-text', err.message) : null,
    wait ? h('p.alert-detail', wait) : null,
    actions && actions.length ? h('div.actions', actions) : null);
}

export function button(text, onclick, cls = 'btn btn-secondary') {
  return h(`button.${cls.split(' ').join('.')}`, { type: 'button', onclick }, text);
}
