// dom.js — safe DOM building and Vietnamese formatting helpers.
//
// Everything rendered from data goes through text nodes (textContent):
// citizens' messages are hostile input.  There is no innerHTML anywhere in
// the console.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else if (k instanceof Node) el.appendChild(k);
    else el.appendChild(document.createTextNode(String(k)));
  }
}

function setAttrs(el, attrs, svg) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'testid') el.setAttribute('data-testid', v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (!svg && (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected'
                      || k === 'hidden' || k === 'required')) el[k] = v;
    else if (/^on/i.test(k)) continue;           // never an inline handler from a string
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** h('div', {class:'x', testid:'y', onclick: fn}, 'text', child, [more]) */
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  if (attrs && (attrs instanceof Node || typeof attrs !== 'object' || Array.isArray(attrs))) {
    kids.unshift(attrs);
    attrs = null;
  }
  setAttrs(el, attrs, false);
  append(el, kids);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs, true);
  append(el, kids);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...kids) {
  clear(el);
  append(el, kids);
  return el;
}

export function debounce(fn, ms) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

// ---- Vietnamese labels ----

export const REASONS = {
  no_match: 'Không tìm thấy câu trả lời',
  ambiguous: 'Câu hỏi chưa rõ, nhiều mục gần nhau',
  low_confidence: 'Độ tin cậy thấp',
  asked_for_human: 'Công dân muốn gặp cán bộ',
  non_text: 'Tin nhắn không phải văn bản',
  rate_limited: 'Vượt giới hạn tin nhắn',
};
export const reasonLabel = (r) => REASONS[r] || (r ? String(r) : '—');

export const CHANNELS = { sms: 'SMS', zalo: 'Zalo', web: 'Web chat' };
export const channelLabel = (c) => CHANNELS[c] || (c ? String(c) : '—');

export const CASE_STATUS = { open: 'Đang chờ', claimed: 'Đang xử lý', resolved: 'Đã xong' };
export const caseStatusLabel = (st) => CASE_STATUS[st] || String(st || '—');

export const MSG_STATUS = {
  received: 'Đã nhận',
  queued: 'Đang chờ gửi',
  pending: 'Đang chờ gửi',
  sending: 'Đang gửi',
  sent: 'Đã gửi',
  delivered: 'Đã đến máy',
  failed: 'Gửi thất bại',
  rejected: 'Bị từ chối',
};
export const msgStatusLabel = (st) => MSG_STATUS[st] || String(st || '');

export const ROLES = { admin: 'Quản trị', staff: 'Cán bộ' };
export const roleLabel = (r) => ROLES[r] || String(r || '');

export const DECISIONS = { answer: 'Tự động trả lời', escalate: 'Chuyển cán bộ', optout: 'Từ chối nhận tin', ignored: 'Bỏ qua', joined: 'Gộp vào hồ sơ' };

export const KINDS = { image: 'ảnh', photo: 'ảnh', sticker: 'nhãn dán', gif: 'ảnh động', audio: 'ghi âm', voice: 'ghi âm', video: 'video', file: 'tệp', location: 'vị trí', link: 'liên kết', mms: 'MMS' };
export const kindLabel = (k) => KINDS[k] || String(k || '');
export const decisionLabel = (d) => DECISIONS[d] || String(d || '—');

export const FIELDS = {
  question: 'câu hỏi', variant: 'cách hỏi khác', variants: 'cách hỏi khác',
  keyword: 'từ khóa', keywords: 'từ khóa', answer: 'câu trả lời', topic: 'chủ đề',
};
export const fieldLabel = (f) => FIELDS[f] || String(f || '');

// ---- numbers and times ----

const nf = new Intl.NumberFormat('vi-VN');
const nf2 = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 });
export const fmtInt = (n) => nf.format(Number(n) || 0);
export const fmtNum = (n) => (n === null || n === undefined || Number.isNaN(Number(n)) ? '—' : nf2.format(Number(n)));
export const fmtPct = (x) => (x === null || x === undefined ? '—' : `${Math.round(Number(x) * 100)}%`);

const pad = (n) => String(n).padStart(2, '0');

export function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(Number(ms));
  const now = new Date();
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return hm;
  return `${hm} ${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
}

export function fmtDateTime(ms) {
  if (!ms) return '—';
  const d = new Date(Number(ms));
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 75_000 -> "1 phút 15 giây"; short form "1:15". */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '—';
  let sec = Math.max(0, Math.floor(Number(ms) / 1000));
  const d = Math.floor(sec / 86400); sec -= d * 86400;
  const hr = Math.floor(sec / 3600); sec -= hr * 3600;
  const m = Math.floor(sec / 60); sec -= m * 60;
  if (d) return `${d} ngày ${hr} giờ`;
  if (hr) return `${hr} giờ ${m} phút`;
  if (m) return `${m} phút ${sec} giây`;
  return `${sec} giây`;
}

/** Masks a phone number or a long id, as the logs do: 0912***678. */
export function maskAddress(addr) {
  const a = String(addr || '');
  if (a.length <= 6) return a;
  return `${a.slice(0, 4)}***${a.slice(-3)}`;
}

export function download(filename, text, type) {
  const blob = new Blob([text], { type: type || 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 1000);
}
