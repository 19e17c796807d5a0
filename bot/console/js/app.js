// app.js — the console shell: session, hash routing, navigation, live events.
import { h, replace, roleLabel } from './dom.js';
import * as api from './api.js';
import login from './pages/login.js';
import queue from './pages/queue.js';
import entries from './pages/entries.js';
import tryPage from './pages/try.js';
import proposals from './pages/proposals.js';
import stats from './pages/stats.js';
import users from './pages/users.js';
import audit from './pages/audit.js';
import settings from './pages/settings.js';

// Order is the navigation order.  admin: true pages are hidden from staff.
const PAGES = [
  { path: 'queue', label: 'Hàng chờ', page: queue },
  { path: 'entries', label: 'Kho câu hỏi', page: entries, admin: true },
  { path: 'try', label: 'Thử câu hỏi', page: tryPage },
  { path: 'proposals', label: 'Đề xuất', page: proposals, admin: true },
  { path: 'stats', label: 'Thống kê', page: stats, admin: true },
  { path: 'users', label: 'Người dùng', page: users, admin: true },
  { path: 'audit', label: 'Nhật ký', page: audit, admin: true },
  { path: 'settings', label: 'Cài đặt', page: settings, admin: true },
];

const state = { me: null, cleanup: null, events: null, listeners: new Map(), liveState: 'off' };
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const userBox = document.getElementById('userbox');
const toasts = document.getElementById('toasts');
const liveBadge = document.getElementById('live');

// ---- toasts (role=status, read by screen readers) ----
export function toast(message, kind = 'info') {
  const el = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status', testid: `toast-${kind}` },
    String(message));
  toasts.appendChild(el);
  setTimeout(() => el.classList.add('toast-out'), kind === 'error' ? 6000 : 3200);
  setTimeout(() => el.remove(), kind === 'error' ? 6600 : 3800);
}

// ---- live events (GET /api/events) ----
const events = {
  on(type, fn) {
    if (!state.listeners.has(type)) state.listeners.set(type, new Set());
    state.listeners.get(type).add(fn);
    return () => state.listeners.get(type).delete(fn);
  },
  get connected() { return state.liveState === 'on'; },
};

function emit(type, data) {
  for (const fn of state.listeners.get(type) || []) {
    try { fn(data); } catch (e) { console.error(e); }
  }
}

function setLive(st) {
  state.liveState = st;
  liveBadge.hidden = !state.me;
  liveBadge.dataset.state = st;
  liveBadge.textContent = st === 'on' ? 'Trực tuyến' : 'Đang kết nối lại…';
  liveBadge.title = st === 'on' ? 'Cập nhật trực tiếp đang hoạt động' : 'Mất kết nối cập nhật trực tiếp, đang thử lại';
}

function openEvents() {
  closeEvents();
  const es = new EventSource('/api/events');
  state.events = es;
  setLive('connecting');
  es.onopen = () => { setLive('on'); emit('reconnect', null); };
  es.onerror = () => {
    setLive('connecting');
    // A closed stream (the session ended, or the server refused): probe the
    // session now (a 401 goes to the login page), else retry a bit later.
    if (es.readyState === EventSource.CLOSED) {
      (async () => {
        try { await api.get('/api/me'); } catch (e) { if (e.status === 401) return; }
        setTimeout(() => { if (state.events === es) openEvents(); }, 3000);
      })();
    }
  };
  for (const type of ['case', 'message']) {
    es.addEventListener(type, (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch { return; }
      emit(type, data);
    });
  }
}

function closeEvents() {
  if (state.events) state.events.close();
  state.events = null;
}

// ---- session ----
function setSession(res) {
  state.me = res.user;
  api.setCsrf(res.csrf);
  renderChrome();
  openEvents();
}

async function logout() {
  try { await api.post('/api/logout'); } catch { /* already gone */ }
  dropSession();
}

function dropSession() {
  state.me = null;
  api.setCsrf('');
  closeEvents();
  renderChrome();
  if (!location.hash.startsWith('#/login')) location.hash = '#/login';
  else route();
}

api.setUnauthorizedHandler(() => {
  if (state.me) toast('Phiên đăng nhập đã hết, vui lòng đăng nhập lại', 'error');
  dropSession();
});

function isAdmin() { return state.me && state.me.role === 'admin'; }

function renderChrome() {
  const visible = state.me ? PAGES.filter((p) => !p.admin || isAdmin()) : [];
  replace(nav, visible.map((p) => h('a', {
    href: `#/${p.path}`, class: 'nav-link', testid: `nav-${p.path}`, dataset: { path: p.path },
  }, p.label)));
  nav.hidden = !state.me;
  if (state.me) {
    replace(userBox,
      h('span', { class: 'user-name', id: 'me', testid: 'me' }, state.me.username),
      h('span', { class: ['role', `role-${state.me.role}`], testid: 'me-role' }, roleLabel(state.me.role)),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'logout', testid: 'logout', onclick: logout }, 'Đăng xuất'));
  } else {
    replace(userBox);
  }
  liveBadge.hidden = !state.me;
}

// ---- routing ----
function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { name: parts[0] || '', args: parts.slice(1).filter((x) => x !== '') };
}

export function navigate(hash, { replaceHistory = false } = {}) {
  if (location.hash === hash) return;
  if (replaceHistory) { history.replaceState(null, '', hash); route(); }
  else location.hash = hash;   // hashchange routes

}

let routeSeq = 0;
function route() {
  const seq = ++routeSeq;
  const { name, args } = parseHash();
  if (state.cleanup) { try { state.cleanup(); } catch (e) { console.error(e); } state.cleanup = null; }

  if (!state.me) {
    if (name !== 'login') { history.replaceState(null, '', '#/login'); }
    mount(login, [], seq, { label: 'Đăng nhập' });
    return;
  }
  let entry = PAGES.find((p) => p.path === name);
  if (name === 'login' || !entry) {
    history.replaceState(null, '', '#/queue');
    entry = PAGES[0];
  }
  if (entry.admin && !isAdmin()) {
    replace(main, h('section', { class: 'page', testid: 'page-forbidden' },
      h('h1', null, 'Không có quyền truy cập'),
      h('p', null, 'Trang này chỉ dành cho quản trị viên.')));
    return;
  }
  for (const a of nav.querySelectorAll('.nav-link')) {
    if (a.dataset.path === entry.path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  mount(entry.page, args, seq, entry);
}

function mount(page, args, seq, entry) {
  document.body.dataset.page = entry.path || 'login';
  document.title = `${entry.label} · Bảng điều khiển Tổng đài`;
  const root = h('section', { class: 'page', id: `page-${entry.path || 'login'}`, testid: `page-${entry.path || 'login'}` });
  replace(main, root);
  const ctx = {
    me: state.me, isAdmin: isAdmin(), args, toast, navigate, events,
    onLogin: (res) => { setSession(res); navigate('#/queue', { replaceHistory: true }); },
    alive: () => seq === routeSeq,
  };
  try {
    const cleanup = page.render(root, ctx);
    state.cleanup = typeof cleanup === 'function' ? cleanup : null;
  } catch (e) {
    console.error(e);
    root.appendChild(h('p', { class: 'error' }, `Lỗi hiển thị trang: ${e.message}`));
  }
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);

// ---- start: restore the session if the cookie is still good ----
(async function start() {
  setLive('off');
  try {
    const res = await api.get('/api/me', { quiet401: true });
    if (res && res.user) setSession(res);
  } catch { /* not logged in */ }
  renderChrome();
  route();
  document.body.classList.add('ready');
})();
