// Đề xuất (admin) — staff proposals from resolved cases: accept or reject.
import { h, replace, fmtDateTime } from '../dom.js';
import * as api from '../api.js';

const STATUSES = [
  { value: 'pending', label: 'Chờ duyệt' },
  { value: 'accepted', label: 'Đã chấp nhận' },
  { value: 'rejected', label: 'Đã từ chối' },
  { value: 'all', label: 'Tất cả' },
];

export default {
  render(root, ctx) {
    let status = 'pending';
    let disposed = false;
    const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Trạng thái đề xuất' });
    const list = h('div', { id: 'proposals-list', testid: 'proposals-list', class: 'proposals' });
    root.append(
      h('div', { class: 'pane-head' }, h('h1', null, 'Đề xuất')),
      h('p', { class: 'muted lead' }, 'Cán bộ đề xuất khi kết thúc hồ sơ. Chấp nhận “khớp mục” sẽ thêm tin nhắn làm một cách hỏi của mục đó; chấp nhận “mục mới” sẽ tạo mục mới. Kho câu hỏi chỉ thay đổi khi quản trị viên chấp nhận.'),
      tabs, list);

    function renderTabs() {
      replace(tabs, STATUSES.map((s) => h('button', { type: 'button', role: 'tab', class: 'tab', testid: `proposals-tab-${s.value}`,
        'aria-selected': String(s.value === status), onclick: () => { status = s.value; renderTabs(); load(); } }, s.label)));
    }

    async function load() {
      replace(list, h('p', { class: 'muted' }, 'Đang tải…'));
      let res;
      try { res = await api.get(`/api/proposals?status=${status}`); } catch (e) { if (!disposed) replace(list, h('p', { class: 'form-error' }, e.message)); return; }
      if (disposed) return;
      const items = res.proposals || [];
      if (!items.length) {
        replace(list, h('div', { class: 'empty' }, status === 'pending' ? 'Không có đề xuất nào chờ duyệt.' : 'Chưa có đề xuất nào.'));
        return;
      }
      replace(list, items.map(card));
    }

    function card(p) {
      const isNew = !p.entry_id;
      const actions = p.status === 'pending' ? h('div', { class: 'form-actions' },
        h('button', { type: 'button', class: 'btn btn-success btn-sm', testid: 'proposal-accept', onclick: () => decide(p, 'accept') }, 'Chấp nhận'),
        h('button', { type: 'button', class: 'btn btn-danger btn-sm', testid: 'proposal-reject', onclick: () => decide(p, 'reject') }, 'Từ chối'))
        : h('p', { class: 'muted small', testid: 'proposal-decided' }, `${p.status === 'accepted' ? 'Đã chấp nhận' : 'Đã từ chối'} bởi ${p.decided_by || '—'} lúc ${fmtDateTime(p.decided_at)}`);
      return h('article', { class: 'card proposal', testid: 'proposal', dataset: { proposalId: String(p.id) } },
        h('header', { class: 'proposal-head' },
          h('span', { class: ['chip', isNew ? 'chip-new' : 'chip-match'] }, isNew ? 'Đề xuất mục mới' : 'Lẽ ra phải khớp mục'),
          h('span', { class: 'muted small' }, `#${p.id} · hồ sơ #${p.case_id || '—'} · ${p.proposed_by || '—'} · ${fmtDateTime(p.created_at)}`)),
        p.text ? h('div', null, h('span', { class: 'label' }, 'Tin nhắn của công dân'), h('blockquote', { class: 'try-text' }, p.text)) : null,
        isNew
          ? h('div', null,
            h('span', { class: 'label' }, 'Câu hỏi'), h('p', { class: 'strong' }, p.question || '—'),
            h('span', { class: 'label' }, 'Câu trả lời'), h('p', { class: 'pre' }, p.answer || '—'))
          : h('div', null, h('span', { class: 'label' }, 'Mục'),
            h('p', null, h('a', { href: `#/entries/${api.enc(p.entry_id)}` }, (p.entry_question || p.question) ? `${p.entry_question || p.question} (${p.entry_id})` : p.entry_id))),
        actions);
    }

    async function decide(p, what) {
      try {
        const res = await api.post(`/api/proposals/${p.id}/${what}`);
        ctx.toast(what === 'accept' ? `Đã chấp nhận đề xuất. Kho câu hỏi đã cập nhật${res && res.entry_id ? ` (mục ${res.entry_id})` : ''}.` : 'Đã từ chối đề xuất.', 'success');
        load();
      } catch (e) { ctx.toast(e.status === 409 ? 'Đề xuất này đã được quyết định.' : e.message, 'error'); load(); }
    }

    renderTabs();
    load();
    return () => { disposed = true; };
  },
};
