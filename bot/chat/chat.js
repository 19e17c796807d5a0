// chat.js — the public web chat.  POST /chat/send {text} returns what the
// citizen receives now; GET /chat/poll?after=ID brings staff replies later.
// Everything shown goes through textContent: no HTML from anyone.

const STORE = 'hl.chat.v1';
const POLL_MS = 4000;
const POLL_HIDDEN_MS = 15000;

const log = document.getElementById('chat-log');
const form = document.getElementById('chat-form');
const input = document.getElementById('chat-input');
const sendBtn = document.getElementById('chat-send');
const statusEl = document.getElementById('chat-status');
const samples = document.getElementById('chat-samples');
const clearBtn = document.getElementById('chat-clear');

const state = load();
let pollTimer = 0;
let polling = false;
let sending = false;

function load() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE));
    if (s && Array.isArray(s.items)) return { lastId: Number(s.lastId) || 0, items: s.items.slice(-200), started: !!s.started };
  } catch { /* ignore */ }
  return { lastId: 0, items: [], started: false };
}
function save() {
  try { localStorage.setItem(STORE, JSON.stringify({ lastId: state.lastId, items: state.items.slice(-200), started: state.started })); } catch { /* private mode */ }
}

const pad = (n) => String(n).padStart(2, '0');
function hhmm(ms) { const d = new Date(Number(ms) || Date.now()); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; }

// Plain text with http(s) links made clickable, built node by node.
const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
function richText(el, text) {
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
    const a = document.createElement('a');
    a.href = m[0];
    a.textContent = m[0];
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    el.appendChild(a);
    last = m.index + m[0].length;
  }
  if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
}

function render(item) {
  const li = document.createElement('li');
  li.className = `msg ${item.dir === 'in' ? 'msg-in' : 'msg-out'}${item.failed ? ' msg-failed' : ''}`;
  li.setAttribute('data-testid', 'chat-msg');
  li.dataset.direction = item.dir;
  if (item.id) li.dataset.id = String(item.id);
  const who = document.createElement('span');
  who.className = 'visually-hidden';
  who.textContent = item.dir === 'in' ? 'Bạn: ' : 'Tổng đài: ';
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  bubble.appendChild(who);
  if (item.dir === 'in') bubble.appendChild(document.createTextNode(item.text));
  else richText(bubble, item.text);
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = item.failed ? 'Chưa gửi được' : hhmm(item.at);
  li.append(bubble, meta);
  if (item.failed) {
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'retry';
    retry.textContent = 'Gửi lại';
    retry.addEventListener('click', () => {
      state.items = state.items.filter((x) => x !== item);
      li.remove();
      save();
      send(item.text);
    });
    meta.append(' · ', retry);
  }
  log.appendChild(li);
  return li;
}

function scrollDown() {
  const last = log.lastElementChild;
  if (last) last.scrollIntoView({ block: 'end', behavior: 'smooth' });
}

function addOutbound(msgs) {
  let added = 0;
  for (const m of msgs || []) {
    const id = Number(m.id) || 0;
    if (id && state.items.some((x) => x.id === id)) continue;
    if (typeof m.text !== 'string' || !m.text) continue;
    const item = { dir: 'out', id, text: m.text, at: Number(m.created_at) || Date.now() };
    state.items.push(item);
    render(item);
    if (id > state.lastId) state.lastId = id;
    added++;
  }
  if (added) { save(); scrollDown(); }
  return added;
}

function setStatus(text) { statusEl.textContent = text || ''; }

function typing(on) {
  let el = document.getElementById('chat-typing');
  if (on && !el) {
    el = document.createElement('li');
    el.id = 'chat-typing';
    el.className = 'msg msg-out typing';
    el.setAttribute('aria-label', 'Đang trả lời');
    const b = document.createElement('div');
    b.className = 'bubble';
    for (let i = 0; i < 3; i++) b.appendChild(document.createElement('span'));
    el.appendChild(b);
    log.appendChild(el);
    scrollDown();
  } else if (!on && el) el.remove();
}

async function send(text) {
  text = String(text || '').trim();
  if (!text || sending) return;
  sending = true;
  sendBtn.disabled = true;
  samples.hidden = true;
  const item = { dir: 'in', text, at: Date.now() };
  state.items.push(item);
  const li = render(item);
  save();
  scrollDown();
  typing(true);
  setStatus('Đang gửi…');
  try {
    const res = await fetch('/chat/send', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ text }),
    });
    let data = {};
    try { data = await res.json(); } catch { /* empty */ }
    if (!res.ok) throw new Error(res.status === 429 ? 'Bạn gửi quá nhiều tin trong thời gian ngắn. Vui lòng chờ một lát.'
      : res.status === 413 ? 'Tin nhắn quá dài.'
        : res.status === 404 || res.status === 403 ? 'Kênh hỏi đáp trực tuyến đang tạm ngừng.'
          : `Không gửi được (${data.error || res.status}).`);
    state.started = true;
    typing(false);
    const n = addOutbound(data.messages);
    setStatus(n ? '' : 'Đã gửi. Cán bộ đang xem tin nhắn của bạn.');
    schedulePoll(POLL_MS);
  } catch (e) {
    typing(false);
    item.failed = true;
    li.remove();
    render(item);
    save();
    setStatus(e instanceof TypeError ? 'Mất kết nối. Kiểm tra mạng rồi bấm “Gửi lại”.' : e.message);
  } finally {
    sending = false;
    sendBtn.disabled = false;
  }
}

async function poll() {
  if (polling || !state.started) return;
  polling = true;
  try {
    const res = await fetch(`/chat/poll?after=${encodeURIComponent(state.lastId)}`, { credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (res.ok) {
      const data = await res.json();
      if (addOutbound(data.messages)) setStatus('');
    }
  } catch { /* offline: try again later */ }
  polling = false;
  schedulePoll(document.hidden ? POLL_HIDDEN_MS : POLL_MS);
}

function schedulePoll(ms) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, ms);
}

function autosize() {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = input.value;
  if (!text.trim()) { input.focus(); return; }
  input.value = '';
  autosize();
  send(text);
  input.focus();
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
});
input.addEventListener('input', autosize);
samples.addEventListener('click', (e) => {
  const b = e.target.closest('button.sample');
  if (b) send(b.textContent);
});
clearBtn.addEventListener('click', () => {
  if (!confirm('Xóa cuộc trò chuyện hiển thị trên máy này?')) return;
  const lastId = state.lastId;
  state.items = [];
  save();
  for (const li of [...log.querySelectorAll('[data-testid="chat-msg"]')]) li.remove();
  state.lastId = lastId;
  samples.hidden = false;
});
document.addEventListener('visibilitychange', () => { if (!document.hidden && state.started) schedulePoll(200); });

// Restore this browser's conversation, then catch up on replies.
for (const item of state.items) render(item);
if (state.items.length) { samples.hidden = true; scrollDown(); }
if (state.started) schedulePoll(300);
document.body.classList.add('ready');
