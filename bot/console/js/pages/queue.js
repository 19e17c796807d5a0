// Hàng chờ — open cases oldest first, live; the conversation; claim, reply with
// the bot's suggestions, resolve with an optional proposal.
import {
  h, replace, debounce, reasonLabel, channelLabel, caseStatusLabel, msgStatusLabel,
  decisionLabel, kindLabel, fmtTime, fmtDateTime, fmtDuration, fmtPct, maskAddress,
} from '../dom.js';
import * as api from '../api.js';

const FILTERS = [
  { value: 'active', label: 'Chưa xong' },
  { value: 'open', label: 'Đang chờ' },
  { value: 'claimed', label: 'Đang xử lý' },
  { value: 'resolved', label: 'Đã xong' },
];

function isMine(c, me) {
  if (!c || c.claimed_by === null || c.claimed_by === undefined || c.claimed_by === '') return false;
  return String(c.claimed_by) === String(me.username) || String(c.claimed_by) === String(me.id);
}

function claimedByName(c) {
  const v = c.claimed_by;
  if (v && typeof v === 'object') return v.username || String(v.id || '');
  return v === null || v === undefined ? '' : String(v);
}

function contactName(ct) {
  if (!ct) return '';
  const addr = maskAddress(ct.address);
  return ct.display_name ? `${ct.display_name}${addr ? ` · ${addr}` : ''}` : addr;
}

function waitingBase(c, fetchedAt) {
  // Prefer the server's own count (no clock skew); fall back to opened_at.
  if (typeof c.waiting_ms === 'number') return fetchedAt - c.waiting_ms;
  return Number(c.opened_at) || fetchedAt;
}

export default {
  render(root, ctx) {
    const me = ctx.me;
    const st = {
      filter: sessionStorage.getItem('hl.queue.filter') || 'active',
      cases: [],
      seen: null,            // case ids already shown (to flag new arrivals)
      selected: ctx.args[0] ? Number(ctx.args[0]) : null,
      detail: null,
      replyDrafts: new Map(), // case id -> draft text
      timers: [],
      unsub: [],
      disposed: false,
    };

    // ---------- layout ----------
    const filterSel = h('select', { id: 'queue-filter', testid: 'queue-filter', 'aria-label': 'Lọc theo trạng thái',
      onchange: () => { st.filter = filterSel.value; sessionStorage.setItem('hl.queue.filter', st.filter); st.seen = null; loadList(); } },
    FILTERS.map((f) => h('option', { value: f.value, selected: f.value === st.filter }, f.label)));
    const countEl = h('span', { id: 'queue-count', testid: 'queue-count', class: 'count-pill' }, '0');
    const listEl = h('ol', { id: 'queue-list', testid: 'queue-list', class: 'case-list', 'aria-live': 'polite', 'aria-label': 'Danh sách hồ sơ' });
    const listEmpty = h('div', { class: 'empty', id: 'queue-empty', testid: 'queue-empty', hidden: true },
      h('strong', null, 'Không có hồ sơ nào đang chờ.'), h('br'), 'Tin nhắn mới cần cán bộ trả lời sẽ hiện ra ngay tại đây.');
    const listPane = h('div', { class: 'queue-list-pane' },
      h('div', { class: 'pane-head' },
        h('h1', null, 'Hàng chờ ', countEl),
        filterSel),
      listEl, listEmpty);
    const detailPane = h('div', { class: 'queue-detail-pane', id: 'case-detail', testid: 'case-detail' });
    const layout = h('div', { class: 'queue-layout' }, listPane, detailPane);
    root.append(layout);

    // ---------- list ----------
    async function loadList() {
      let res;
      try {
        res = await api.get(`/api/cases?status=${api.enc(st.filter)}`);
      } catch (e) {
        if (!st.disposed) ctx.toast(e.message, 'error');
        return;
      }
      if (st.disposed) return;
      const fetchedAt = Date.now();
      const cases = (res.cases || []).slice();
      // Oldest first, whatever the server did.
      cases.sort((a, b) => (Number(a.opened_at) || 0) - (Number(b.opened_at) || 0) || a.id - b.id);
      const fresh = new Set();
      if (st.seen) for (const c of cases) if (!st.seen.has(c.id)) fresh.add(c.id);
      st.seen = new Set(cases.map((c) => c.id));
      st.cases = cases.map((c) => ({ ...c, _base: waitingBase(c, fetchedAt) }));
      renderList(fresh);
      const freshOpen = cases.filter((c) => fresh.has(c.id) && c.status === 'open').length;
      if (freshOpen) ctx.toast(freshOpen === 1 ? 'Có hồ sơ mới trong hàng chờ.' : `Có ${freshOpen} hồ sơ mới trong hàng chờ.`);
    }
    const reloadList = debounce(loadList, 150);

    function renderList(fresh = new Set()) {
      countEl.textContent = String(st.cases.length);
      listEmpty.hidden = st.cases.length > 0;
      if (!st.cases.length) {
        listEmpty.firstChild.textContent = st.filter === 'resolved' ? 'Chưa có hồ sơ nào đã xong.' : 'Không có hồ sơ nào đang chờ.';
      }
      replace(listEl, st.cases.map((c) => {
        const mine = isMine(c, me);
        const waitEl = h('span', { class: 'wait', testid: 'case-wait', dataset: { base: String(c._base) },
          title: `Mở lúc ${fmtDateTime(c.opened_at)}` }, c.status === 'resolved' ? fmtTime(c.opened_at) : fmtDuration(Date.now() - c._base));
        if (c.status === 'resolved') delete waitEl.dataset.base;
        return h('li', null, h('a', {
          href: `#/queue/${c.id}`,
          class: ['case-item', `st-${c.status}`, c.id === st.selected && 'is-selected', fresh.has(c.id) && 'is-new', mine && 'is-mine'],
          testid: 'case-item', dataset: { caseId: String(c.id), status: c.status || '' },
          'aria-current': c.id === st.selected ? 'true' : null,
          onclick: (e) => { e.preventDefault(); select(c.id); },
        },
        h('div', { class: 'case-row1' },
          h('span', { class: ['chip', `ch-${c.channel}`], testid: 'case-channel' }, channelLabel(c.channel)),
          h('span', { class: 'case-addr' }, contactName(c.contact)),
          waitEl),
        h('div', { class: 'case-text', testid: 'case-text' }, c.last_text || '(không có nội dung)'),
        h('div', { class: 'case-row3' },
          h('span', { class: ['reason', `rs-${c.reason}`], testid: 'case-reason' }, reasonLabel(c.reason)),
          h('span', { class: 'muted' }, `${c.message_count || 0} tin`),
          c.first_reply_at && c.status !== 'resolved' ? h('span', { class: 'chip cs-resolved', testid: 'case-replied', title: `Cán bộ trả lời lần đầu lúc ${fmtDateTime(c.first_reply_at)}` }, 'Đã trả lời') : null,
          c.status === 'claimed'
            ? h('span', { class: ['chip', 'chip-claimed', mine && 'chip-mine'] }, mine ? 'Bạn đang xử lý' : `${claimedByName(c)} đang xử lý`)
            : h('span', { class: ['chip', `cs-${c.status}`] }, caseStatusLabel(c.status)))));
      }));
      const open = st.cases.filter((c) => c.status === 'open').length;
      document.title = `${open ? `(${open}) ` : ''}Hàng chờ · Bảng điều khiển Tổng đài`;
    }

    // Waiting time ticks every second.
    st.timers.push(setInterval(() => {
      for (const el of root.querySelectorAll('[data-base]')) {
        el.textContent = fmtDuration(Date.now() - Number(el.dataset.base));
      }
    }, 1000));
    // Safety net if the event stream is down: refresh every 20 s.
    st.timers.push(setInterval(() => { if (!ctx.events.connected) { loadList(); if (st.selected) reloadDetail(); } }, 20000));

    // ---------- detail ----------
    function select(id) {
      saveDraft();
      st.selected = id;
      history.replaceState(null, '', id ? `#/queue/${id}` : '#/queue');
      layout.classList.toggle('has-detail', !!id);
      for (const a of listEl.querySelectorAll('.case-item')) {
        const on = Number(a.dataset.caseId) === id;
        a.classList.toggle('is-selected', on);
        if (on) a.setAttribute('aria-current', 'true'); else a.removeAttribute('aria-current');
      }
      st.detail = null;
      renderDetail();
      if (id) loadDetail();
    }

    async function loadDetail() {
      const id = st.selected;
      if (!id) return;
      let res;
      try {
        res = await api.get(`/api/cases/${id}`);
      } catch (e) {
        if (st.disposed || id !== st.selected) return;
        replace(detailPane, h('div', { class: 'empty' }, e.status === 404 ? 'Không tìm thấy hồ sơ này.' : e.message));
        return;
      }
      if (st.disposed || id !== st.selected) return;
      st.detail = res;
      renderDetail();
    }
    const reloadDetail = debounce(loadDetail, 150);

    function saveDraft() {
      const ta = detailPane.querySelector('#reply-text');
      if (ta && ta.dataset.caseId) st.replyDrafts.set(Number(ta.dataset.caseId), ta.value);
    }

    function renderDetail() {
      saveDraft();
      const focused = document.activeElement && document.activeElement.id;
      const caretPos = focused === 'reply-text' ? document.activeElement.selectionStart : null;
      if (!st.selected) {
        replace(detailPane, h('div', { class: 'empty empty-detail' },
          h('strong', null, 'Chọn một hồ sơ để xem cuộc trò chuyện.'), h('br'),
          'Hồ sơ cũ nhất ở trên cùng. Nhận xử lý trước khi trả lời để đồng nghiệp không trả lời trùng.'));
        return;
      }
      if (!st.detail) {
        replace(detailPane, h('div', { class: 'empty' }, 'Đang tải…'));
        return;
      }
      const c = st.detail.case || {};
      const msgs = st.detail.messages || [];
      const mine = isMine(c, me);
      const base = waitingBase(c, Date.now());

      const back = h('button', { type: 'button', class: 'btn btn-ghost btn-sm back-btn', testid: 'case-back', onclick: () => select(null) }, '← Danh sách');
      const head = h('div', { class: 'detail-head' },
        back,
        h('div', { class: 'detail-title' },
          h('h2', { id: 'case-title' }, `Hồ sơ #${c.id}`),
          h('span', { class: ['chip', `cs-${c.status}`], id: 'case-status', testid: 'case-status', dataset: { status: c.status || '' } },
            c.status === 'claimed' ? (mine ? 'Bạn đang xử lý' : `${claimedByName(c)} đang xử lý`) : caseStatusLabel(c.status))),
        h('dl', { class: 'facts' },
          h('div', null, h('dt', null, 'Lý do chuyển'), h('dd', { testid: 'case-reason' }, reasonLabel(c.reason))),
          h('div', null, h('dt', null, 'Kênh'), h('dd', null, channelLabel(c.channel))),
          h('div', null, h('dt', null, 'Người gửi'), h('dd', null, contactName(c.contact) || '—')),
          h('div', null, h('dt', null, c.status === 'resolved' ? 'Mở lúc' : 'Đã chờ'),
            c.status === 'resolved' ? h('dd', null, fmtDateTime(c.opened_at))
              : h('dd', { dataset: { base: String(base) } }, fmtDuration(Date.now() - base)))));

      const actions = h('div', { class: 'detail-actions' });
      if (c.status === 'open') {
        actions.append(h('button', { type: 'button', class: 'btn btn-primary', id: 'case-claim', testid: 'case-claim', onclick: () => act('claim') }, 'Nhận xử lý'));
      }
      if (c.status === 'claimed' && (mine || ctx.isAdmin)) {
        actions.append(h('button', { type: 'button', class: 'btn', id: 'case-release', testid: 'case-release', onclick: () => act('release') }, 'Trả lại hàng chờ'));
      }
      if (c.status !== 'resolved' && (c.status === 'open' || mine || ctx.isAdmin)) {
        actions.append(h('button', { type: 'button', class: 'btn btn-success', id: 'case-resolve', testid: 'case-resolve', onclick: () => openResolve(c, msgs) }, 'Kết thúc hồ sơ'));
      }
      if (c.status === 'claimed' && !mine) {
        actions.append(h('p', { class: 'note' }, `Hồ sơ đang do ${claimedByName(c)} xử lý.`));
      }

      // Conversation
      const convo = h('ol', { class: 'convo', id: 'conversation', testid: 'conversation', 'aria-label': 'Cuộc trò chuyện' },
        msgs.map((m) => renderMessage(m)));

      const canReply = c.status !== 'resolved' && (c.status === 'open' || mine);

      // Suggestions
      const cands = (c.candidates || []).slice(0, 3);
      const sugg = h('section', { class: 'suggestions', id: 'suggestions', testid: 'suggestions', 'aria-label': 'Gợi ý của hệ thống' },
        h('h3', null, 'Gợi ý của hệ thống'),
        cands.length ? h('ol', { class: 'sugg-list' }, cands.map((cand, i) => {
          const text = suggestionText(cand, c.channel);
          return h('li', { class: 'sugg', testid: 'suggestion', dataset: { entryId: String(cand.entry_id) } },
            h('div', { class: 'sugg-head' },
              h('span', { class: 'sugg-q' }, `${i + 1}. ${cand.question || cand.entry_id}`),
              h('span', { class: 'conf', title: 'Độ tin cậy' }, fmtPct(cand.confidence))),
            h('p', { class: 'sugg-a' }, text),
            c.status === 'resolved' ? null : h('button', { type: 'button', class: 'btn btn-sm', testid: 'suggestion-insert', dataset: { entryId: String(cand.entry_id) },
              disabled: !canReply,
              onclick: () => insertSuggestion(text) }, 'Chèn vào ô trả lời'));
        })) : h('p', { class: 'muted' }, 'Hệ thống không có gợi ý phù hợp cho tin nhắn này.'));

      // Reply box (draft kept across re-renders)
      const ta = h('textarea', { id: 'reply-text', testid: 'reply-text', rows: 5, dataset: { caseId: String(c.id) }, placeholder: canReply ? 'Nhập câu trả lời cho công dân… (Ctrl+Enter để gửi)' : 'Hồ sơ đang do người khác xử lý.',
        disabled: !canReply, 'aria-label': 'Nội dung trả lời',
        onkeydown: (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendReply(); } },
        oninput: () => { st.replyDrafts.set(c.id, ta.value); updateCounter(); grow(); } });
      ta.value = st.replyDrafts.get(c.id) || '';
      // The box grows with its text (up to about 16 lines), then scrolls.
      const grow = () => { ta.style.height = 'auto'; ta.style.height = `${Math.min(Math.max(ta.scrollHeight + 2, 120), 380)}px`; };
      requestAnimationFrame(grow);
      const counter = h('span', { class: 'counter', id: 'reply-counter', testid: 'reply-counter', 'aria-live': 'polite' });
      const sendBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'reply-send', testid: 'reply-send', disabled: !canReply, onclick: sendReply }, 'Gửi trả lời');
      const reply = c.status === 'resolved'
        ? h('p', { class: 'reply note', testid: 'case-closed' }, `Hồ sơ đã kết thúc${c.resolved_by ? ` bởi ${c.resolved_by}` : ''}${c.resolved_at ? ` lúc ${fmtDateTime(c.resolved_at)}` : ''}. Tin nhắn tiếp theo của công dân do hệ thống tự động trả lời hoặc mở hồ sơ mới.`)
        : h('section', { class: 'reply', 'aria-label': 'Trả lời' },
          h('label', { for: 'reply-text', class: 'reply-label' }, `Trả lời qua ${channelLabel(c.channel)}`),
          ta,
          h('div', { class: 'reply-foot' }, counter, sendBtn));

      const renderCounter = async () => {
        const text = ta.value;
        if (!text) { counter.textContent = ''; return; }
        if (c.channel !== 'sms') { counter.textContent = `${[...text].length} ký tự`; return; }
        try {
          const r = await api.post('/api/sms/render', { text });
          if (ta.value === text) counter.textContent = `${r.chars ?? [...text].length} ký tự · ${r.segments} tin SMS${r.coding ? ` (${r.coding})` : ''}`;
        } catch { counter.textContent = `${[...text].length} ký tự`; }
      };
      const updateCounter = debounce(renderCounter, 300);
      updateCounter();

      function insertSuggestion(text) {
        if (!canReply) return;
        const cur = ta.value;
        const start = ta.selectionStart ?? cur.length;
        const end = ta.selectionEnd ?? cur.length;
        // Empty box: the answer as is; otherwise insert at the caret.
        ta.value = cur.trim() === '' ? text : cur.slice(0, start) + text + cur.slice(end);
        st.replyDrafts.set(c.id, ta.value);
        ta.focus();
        grow();
        updateCounter();
        ctx.toast('Đã chèn gợi ý vào ô trả lời. Hãy đọc lại trước khi gửi.');
      }

      async function sendReply() {
        const text = ta.value.trim();
        if (!text) { ctx.toast('Nội dung trả lời đang trống.', 'error'); ta.focus(); return; }
        sendBtn.disabled = true;
        sendBtn.textContent = 'Đang gửi…';
        try {
          // Replying to an open case claims it for the sender (API.md).
          await api.post(`/api/cases/${c.id}/reply`, { text });
          st.replyDrafts.delete(c.id);
          ta.value = '';
          ctx.toast('Đã gửi trả lời, đang chờ xác nhận của nhà mạng.', 'success');
          await loadDetail();
          reloadList();
        } catch (e) {
          ctx.toast(`Không gửi được: ${e.message}`, 'error');
        } finally {
          sendBtn.disabled = false;
          sendBtn.textContent = 'Gửi trả lời';
        }
      }

      replace(detailPane, head, actions,
        h('div', { class: 'detail-body' },
          h('div', { class: 'detail-convo' }, convo, reply),
          sugg));
      layout.classList.add('has-detail');
      convo.scrollTop = convo.scrollHeight;
      if (focused === 'reply-text' && !ta.disabled) {
        ta.focus();
        if (caretPos !== null) ta.setSelectionRange(caretPos, caretPos);
      }
    }

    function renderMessage(m) {
      const out = m.direction === 'out';
      const who = out ? (m.author && m.author !== 'bot' ? `Cán bộ ${m.author}` : 'Hệ thống tự động') : 'Công dân';
      const meta = [h('span', { class: 'msg-who' }, who), h('span', { class: 'msg-ch' }, channelLabel(m.channel)),
        h('time', { datetime: new Date(Number(m.created_at) || 0).toISOString(), title: fmtDateTime(m.created_at) }, fmtTime(m.created_at))];
      const extra = [];
      if (m.kind && m.kind !== 'text') extra.push(h('span', { class: 'chip', testid: 'msg-kind' }, `Tin dạng ${kindLabel(m.kind)}`));
      if (out && m.status) {
        extra.push(h('span', { class: ['msg-status', `ms-${m.status}`], testid: 'msg-status', dataset: { status: m.status } },
          msgStatusLabel(m.status)));
        if (m.error) extra.push(h('span', { class: 'msg-error', testid: 'msg-error' }, `Lý do: ${m.error}`));
        if (m.status === 'failed' && m.text) {
          extra.push(h('button', { type: 'button', class: 'btn btn-sm', testid: 'msg-retry', title: 'Đưa nội dung này vào ô trả lời để gửi lại',
            onclick: () => {
              const ta = detailPane.querySelector('#reply-text');
              if (!ta || ta.disabled) { ctx.toast('Hãy nhận xử lý hồ sơ trước khi gửi lại.', 'error'); return; }
              ta.value = m.text;
              ta.dispatchEvent(new Event('input'));
              ta.focus();
            } }, 'Soạn lại'));
        }
      }
      if (!out && (m.decision || m.reason)) {
        const bits = [m.decision ? decisionLabel(m.decision) : null, m.reason ? reasonLabel(m.reason) : null,
          (m.confidence !== null && m.confidence !== undefined) ? `tin cậy ${fmtPct(m.confidence)}` : null,
          m.entry_id ? `mục ${m.entry_id}` : null].filter(Boolean);
        extra.push(h('span', { class: 'msg-bot' }, `Hệ thống: ${bits.join(' · ')}`));
      }
      return h('li', { class: ['msg', out ? 'msg-out' : 'msg-in', out && m.author && m.author !== 'bot' && 'msg-staff'],
        testid: 'msg', dataset: { msgId: String(m.id), direction: m.direction || '', status: m.status || '' } },
      h('div', { class: 'msg-meta' }, meta),
      h('div', { class: 'msg-text' }, m.text || '(không có nội dung văn bản)'),
      extra.length ? h('div', { class: 'msg-extra' }, extra) : null);
    }

    function suggestionText(cand, channel) {
      if (channel === 'sms' && cand.answer_sms) return cand.answer_sms;
      return cand.answer || cand.answer_sms || '';
    }

    async function act(what) {
      const id = st.selected;
      try {
        await api.post(`/api/cases/${id}/${what}`);
        ctx.toast(what === 'claim' ? 'Bạn đã nhận xử lý hồ sơ này.' : 'Đã trả hồ sơ về hàng chờ.', 'success');
      } catch (e) {
        ctx.toast(e.status === 409 ? 'Hồ sơ đã có người khác nhận xử lý.' : e.message, 'error');
      }
      await loadDetail();
      loadList();
    }

    // ---------- resolve dialog ----------
    function openResolve(c, msgs) {
      const inbound = msgs.filter((m) => m.direction !== 'out');
      const lastIn = inbound[inbound.length - 1];
      const cands = c.candidates || [];
      const dlg = h('dialog', { id: 'resolve-dialog', testid: 'resolve-dialog', class: 'dialog', 'aria-labelledby': 'resolve-title' });
      const mode = (v) => h('input', { type: 'radio', name: 'resolve-mode', value: v, id: `resolve-mode-${v}`, testid: `resolve-mode-${v}`, checked: v === 'none',
        onchange: sync });
      const mNone = mode('none'); const mMatch = mode('match'); const mNew = mode('new');
      const msgSel = h('select', { id: 'resolve-message', testid: 'resolve-message' },
        inbound.map((m) => h('option', { value: String(m.id), selected: m === lastIn }, (m.text || '').slice(0, 90))));
      const entrySel = h('select', { id: 'resolve-entry', testid: 'resolve-entry' },
        cands.map((cand) => h('option', { value: cand.entry_id }, `${cand.question || cand.entry_id} (${cand.entry_id})`)),
        h('option', { value: '' }, 'Mục khác (nhập mã)…'));
      const entryOther = h('input', { id: 'resolve-entry-id', testid: 'resolve-entry-id', placeholder: 'Mã mục, ví dụ: ho-chieu', hidden: cands.length > 0 });
      entrySel.addEventListener('change', () => { entryOther.hidden = entrySel.value !== ''; });
      const newQ = h('input', { id: 'resolve-new-question', testid: 'resolve-new-question', value: lastIn ? lastIn.text || '' : '' });
      const newA = h('textarea', { id: 'resolve-new-answer', testid: 'resolve-new-answer', rows: 4 });
      const matchBox = h('div', { class: 'sub', hidden: true }, h('label', { for: 'resolve-entry' }, 'Mục lẽ ra phải khớp'), entrySel, entryOther);
      const newBox = h('div', { class: 'sub', hidden: true },
        h('label', { for: 'resolve-new-question' }, 'Câu hỏi'), newQ,
        h('label', { for: 'resolve-new-answer' }, 'Câu trả lời đề xuất'), newA);
      const msgBox = h('div', { class: 'sub', hidden: true }, h('label', { for: 'resolve-message' }, 'Tin nhắn của công dân'), msgSel);
      const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
      function sync() {
        matchBox.hidden = !mMatch.checked;
        newBox.hidden = !mNew.checked;
        msgBox.hidden = mNone.checked || inbound.length === 0;
      }
      const close = () => { dlg.close(); dlg.remove(); };
      dlg.append(h('form', { method: 'dialog', class: 'dialog-form', onsubmit: async (e) => {
        e.preventDefault();
        err.hidden = true;
        let proposal;
        const message_id = msgSel.value ? Number(msgSel.value) : undefined;
        if (mMatch.checked) {
          const entry_id = entrySel.value || entryOther.value.trim();
          if (!entry_id) { err.textContent = 'Hãy chọn hoặc nhập mã mục.'; err.hidden = false; return; }
          proposal = { entry_id, message_id };
        } else if (mNew.checked) {
          if (!newQ.value.trim() || !newA.value.trim()) { err.textContent = 'Hãy nhập câu hỏi và câu trả lời.'; err.hidden = false; return; }
          proposal = { question: newQ.value.trim(), answer: newA.value.trim(), message_id };
        }
        try {
          await api.post(`/api/cases/${c.id}/resolve`, proposal ? { proposal } : {});
          close();
          ctx.toast(proposal ? 'Đã kết thúc hồ sơ và gửi đề xuất cho quản trị viên.' : 'Đã kết thúc hồ sơ. Công dân được chuyển lại cho hệ thống tự động.', 'success');
          await loadDetail();
          loadList();
        } catch (e2) { err.textContent = e2.message; err.hidden = false; }
      } },
      h('h2', { id: 'resolve-title' }, `Kết thúc hồ sơ #${c.id}`),
      h('p', { class: 'muted' }, 'Sau khi kết thúc, tin nhắn tiếp theo của công dân sẽ do hệ thống tự động trả lời.'),
      h('fieldset', null, h('legend', null, 'Đề xuất cải thiện kho câu hỏi (không bắt buộc)'),
        h('label', { class: 'radio' }, mNone, ' Không đề xuất'),
        h('label', { class: 'radio' }, mMatch, ' Tin này lẽ ra phải khớp mục có sẵn'),
        h('label', { class: 'radio' }, mNew, ' Đề xuất thêm mục mới')),
      msgBox, matchBox, newBox, err,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: close }, 'Hủy'),
        h('button', { type: 'submit', class: 'btn btn-success', id: 'resolve-submit', testid: 'resolve-submit' }, 'Kết thúc hồ sơ'))));
      document.body.appendChild(dlg);
      dlg.addEventListener('cancel', () => setTimeout(() => dlg.remove(), 0));
      dlg.showModal();
    }

    // ---------- live events ----------
    st.unsub.push(ctx.events.on('case', (d) => {
      reloadList();
      if (d && st.selected && Number(d.id) === st.selected) reloadDetail();
    }));
    st.unsub.push(ctx.events.on('message', (d) => {
      if (!d || !st.selected || Number(d.case_id) !== st.selected || !st.detail) return;
      const m = (st.detail.messages || []).find((x) => Number(x.id) === Number(d.id));
      if (!m) { reloadDetail(); return; }
      m.status = d.status; m.error = d.error;
      const li = detailPane.querySelector(`[data-msg-id="${Number(d.id)}"]`);
      if (li) li.replaceWith(renderMessage(m));
    }));
    st.unsub.push(ctx.events.on('reconnect', () => { loadList(); if (st.selected) reloadDetail(); }));

    loadList();
    renderDetail();
    layout.classList.toggle('has-detail', !!st.selected);
    if (st.selected) loadDetail();

    return () => {
      st.disposed = true;
      saveDraft();
      st.timers.forEach(clearInterval);
      st.unsub.forEach((u) => u());
      reloadList.cancel(); reloadDetail.cancel();
      document.querySelectorAll('#resolve-dialog').forEach((d) => d.remove());
    };
  },
};
