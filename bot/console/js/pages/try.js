// Thử câu hỏi — what would the bot do with this message?  POST /api/try
// creates nothing.  The previous result is kept (also across pages, e.g. after
// an edit in Kho câu hỏi) and shown side by side with the differences.
import { h, replace, decisionLabel, reasonLabel, fieldLabel, fmtNum, fmtPct, fmtTime } from '../dom.js';
import * as api from '../api.js';

const KEY = 'hl.try.results';

function loadSaved() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || { prev: null, cur: null }; } catch { return { prev: null, cur: null }; }
}

export default {
  render(root, ctx) {
    const saved = loadSaved();
    const st = { prev: saved.prev, cur: saved.cur, busy: false };
    const preset = sessionStorage.getItem('hl.try.text');
    sessionStorage.removeItem('hl.try.text');

    const text = h('textarea', { id: 'try-text', testid: 'try-text', rows: 3, placeholder: 'Nhập tin nhắn như công dân sẽ gửi, ví dụ: làm căn cước cho con ở đâu',
      'aria-label': 'Tin nhắn thử',
      onkeydown: (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); run(); } } });
    text.value = preset || (st.cur ? st.cur.text : '');
    const btn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'try-submit', testid: 'try-submit' }, 'Thử');
    const again = h('button', { type: 'button', class: 'btn', id: 'try-again', testid: 'try-again', hidden: !st.cur,
      onclick: () => { if (st.cur) { text.value = st.cur.text; run(); } } }, 'Thử lại câu trước');
    const clearBtn = h('button', { type: 'button', class: 'btn btn-ghost', id: 'try-clear', testid: 'try-clear',
      onclick: () => { st.prev = null; st.cur = null; persist(); renderResults(); } }, 'Xóa kết quả');
    const out = h('div', { id: 'try-results', testid: 'try-results', 'aria-live': 'polite' });

    root.append(
      h('div', { class: 'pane-head' }, h('h1', null, 'Thử câu hỏi')),
      h('p', { class: 'muted lead' }, 'Xem hệ thống sẽ xử lý một tin nhắn thế nào: tự trả lời hay chuyển cán bộ, khớp mục nào và vì sao. Không tạo tin nhắn hay hồ sơ nào. Sau khi sửa kho câu hỏi, bấm “Thử lại câu trước” để so sánh.'),
      h('form', { class: 'card try-form', id: 'try-form', onsubmit: (e) => { e.preventDefault(); run(); } },
        text, h('div', { class: 'form-actions' }, btn, again, clearBtn)),
      out);

    function persist() { sessionStorage.setItem(KEY, JSON.stringify({ prev: st.prev, cur: st.cur })); }

    async function run() {
      const t = text.value.trim();
      if (!t || st.busy) return;
      st.busy = true; btn.disabled = true; btn.textContent = 'Đang thử…';
      try {
        const res = await api.post('/api/try', { text: t });
        if (st.cur) st.prev = st.cur;
        st.cur = { text: t, at: Date.now(), res };
        persist();
        renderResults();
      } catch (e) {
        ctx.toast(e.message, 'error');
      } finally {
        st.busy = false; btn.disabled = false; btn.textContent = 'Thử';
        again.hidden = !st.cur;
      }
    }

    function renderResults() {
      if (!st.cur) { replace(out); return; }
      const cols = h('div', { class: ['try-cols', st.prev && 'two'] },
        resultCard(st.cur, 'Lần này', 'try-result', st.prev),
        st.prev ? resultCard(st.prev, 'Lần trước', 'try-previous', null) : null);
      replace(out, st.prev ? diffBox(st.prev, st.cur) : null, cols);
    }

    function resultCard(run, title, id, other) {
      const r = run.res || {};
      const cands = r.candidates || [];
      const otherMap = new Map(((other && other.res && other.res.candidates) || []).map((c) => [c.entry_id, c]));
      const top = cands.find((c) => c.entry_id === r.entry_id);
      return h('article', { class: 'card try-card', id, testid: id },
        h('header', { class: 'try-card-head' },
          h('h2', null, title),
          h('span', { class: 'muted' }, fmtTime(run.at))),
        h('blockquote', { class: 'try-text', testid: `${id}-text` }, run.text),
        h('dl', { class: 'facts' },
          h('div', null, h('dt', null, 'Quyết định'),
            h('dd', null, h('span', { class: ['decision', `dec-${r.decision}`], testid: `${id}-decision`, dataset: { decision: r.decision || '' } }, decisionLabel(r.decision)))),
          h('div', null, h('dt', null, 'Lý do'), h('dd', { testid: `${id}-reason` }, r.reason ? reasonLabel(r.reason) : '—')),
          h('div', null, h('dt', null, 'Độ tin cậy'), h('dd', { testid: `${id}-confidence` }, fmtPct(r.confidence))),
          h('div', null, h('dt', null, 'Mục khớp'), h('dd', { testid: `${id}-entry` }, r.entry_id ? (top ? `${top.question} (${r.entry_id})` : r.entry_id) : '—'))),
        (r.threshold !== undefined || r.gap !== undefined)
          ? h('p', { class: 'muted small' }, `Ngưỡng tự trả lời ${fmtNum(r.threshold)} · khoảng cách tối thiểu ${fmtNum(r.gap)}`) : null,
        h('h3', null, 'Các mục gần nhất'),
        cands.length ? h('ol', { class: 'cand-list' }, cands.map((c, i) => {
          const o = otherMap.get(c.entry_id);
          const delta = o ? (Number(c.confidence) || 0) - (Number(o.confidence) || 0) : null;
          return h('li', { class: ['cand', c.entry_id === r.entry_id && 'is-chosen'], testid: 'try-candidate', dataset: { entryId: c.entry_id } },
            h('details', { open: i === 0 },
              h('summary', null,
                h('span', { class: 'cand-q' }, `${c.question || c.entry_id}`),
                h('span', { class: 'cand-nums' },
                  h('span', { class: 'conf' }, fmtPct(c.confidence)),
                  h('span', { class: 'muted' }, ` điểm ${fmtNum(c.score)}`),
                  other && !o ? h('span', { class: 'delta up', testid: 'delta-new' }, 'mới') : null,
                  delta !== null && Math.abs(delta) >= 0.005
                    ? h('span', { class: ['delta', delta > 0 ? 'up' : 'down'] }, `${delta > 0 ? '▲' : '▼'} ${Math.round(Math.abs(delta) * 100)}`)
                    : null)),
              h('p', { class: 'muted small' }, h('code', null, c.entry_id)),
              termsTable(c.terms || [], o ? o.terms || [] : null)));
        })) : h('p', { class: 'muted' }, 'Không có mục nào có từ chung với tin nhắn này.'));
    }

    function termsTable(terms, otherTerms) {
      if (!terms.length) return h('p', { class: 'muted small' }, 'Không có thuật ngữ nào được tính điểm.');
      const otherKeys = otherTerms ? new Set(otherTerms.map((t) => `${t.field}|${t.term}`)) : null;
      const total = terms.reduce((a, t) => a + (Number(t.score) || 0), 0) || 1;
      return h('table', { class: 'terms', testid: 'try-terms' },
        h('caption', { class: 'visually-hidden' }, 'Điểm của từng thuật ngữ'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Thuật ngữ'), h('th', { scope: 'col' }, 'Khớp ở'), h('th', { scope: 'col', class: 'num' }, 'Điểm'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Tỉ trọng')))),
        h('tbody', null, terms.map((t) => {
          const isNew = otherKeys && !otherKeys.has(`${t.field}|${t.term}`);
          const bar = h('span', { class: 'bar' });
          bar.style.width = `${Math.max(2, Math.round(((Number(t.score) || 0) / total) * 100))}%`;
          return h('tr', { class: isNew && 'is-new', testid: 'try-term', dataset: { term: t.term } },
            h('td', null, h('span', { class: 'term' }, t.term), isNew ? h('span', { class: 'delta up' }, 'mới') : null),
            h('td', null, fieldLabel(t.field)),
            h('td', { class: 'num' }, fmtNum(t.score)),
            h('td', { class: 'barcell' }, bar));
        })));
    }

    function diffBox(prev, cur) {
      const a = prev.res || {}; const b = cur.res || {};
      const items = [];
      if (prev.text !== cur.text) items.push(h('li', null, 'Hai lần thử dùng hai tin nhắn khác nhau.'));
      if (a.decision !== b.decision) items.push(h('li', null, `Quyết định: ${decisionLabel(a.decision)} → `, h('strong', null, decisionLabel(b.decision))));
      if ((a.entry_id || '') !== (b.entry_id || '')) items.push(h('li', null, `Mục khớp: ${a.entry_id || '—'} → `, h('strong', null, b.entry_id || '—')));
      const dc = (Number(b.confidence) || 0) - (Number(a.confidence) || 0);
      if (Math.abs(dc) >= 0.005) items.push(h('li', null, `Độ tin cậy: ${fmtPct(a.confidence)} → `, h('strong', null, fmtPct(b.confidence))));
      const aIds = new Set((a.candidates || []).map((c) => c.entry_id));
      const bIds = new Set((b.candidates || []).map((c) => c.entry_id));
      const added = [...bIds].filter((x) => !aIds.has(x));
      const gone = [...aIds].filter((x) => !bIds.has(x));
      if (added.length) items.push(h('li', null, 'Mục mới xuất hiện: ', h('strong', null, added.join(', '))));
      if (gone.length) items.push(h('li', null, `Mục không còn trong danh sách: ${gone.join(', ')}`));
      return h('div', { class: ['card', 'diff', items.length ? 'has-changes' : 'no-changes'], id: 'try-diff', testid: 'try-diff' },
        h('h2', null, 'Khác biệt so với lần trước'),
        items.length ? h('ul', null, items) : h('p', null, 'Không có khác biệt về quyết định, mục khớp và độ tin cậy.'));
    }

    renderResults();
    if (preset) run();
    else text.focus();
  },
};
