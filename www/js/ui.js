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

export const PAYMENT_STATUS = { PAID: '납부 완료', UNPAID: '납부 예정', OVERDUE: '연체' };
export const LINE_STATUS = { ACTIVE: '사용 중', SUSPENDED: '일시 정지', TERMINATED: '해지' };

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

/** An error box: Korean message, optional detail, optional retry action. */
export function errorBox(title, err, actions) {
  const detail = err && err.details && err.details !== err.message ? err.details : '';
  return h('div.alert.alert-error', { role: 'alert' },
    h('p.alert-title', title),
    err && err.message && err.message !== title ? h('p', err.message) : null,
    detail ? h('p.alert-detail', detail) : null,
    actions && actions.length ? h('div.actions', actions) : null);
}

export function button(text, onclick, cls = 'btn btn-secondary') {
  return h(`button.${cls.split(' ').join('.')}`, { type: 'button', onclick }, text);
}
