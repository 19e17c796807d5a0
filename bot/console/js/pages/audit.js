// Nhật ký (admin) — who changed what and when, newest first, paged.
import { h, replace, fmtDateTime } from '../dom.js';
import * as api from '../api.js';

const ACTIONS = {
  login: 'Đăng nhập', logout: 'Đăng xuất',
  'entry.create': 'Thêm mục', 'entry.update': 'Sửa mục', 'entry.delete': 'Xóa mục',
  'entries.import': 'Nhập tệp', 'kb.import': 'Nhập tệp', import: 'Nhập tệp', 'user.update': 'Sửa người dùng', 'admin.create': 'Tạo quản trị viên đầu tiên',
  'settings.update': 'Sửa cài đặt', 'lexicon.update': 'Sửa từ điển',
  'user.create': 'Thêm người dùng', 'user.add': 'Thêm người dùng', 'user.passwd': 'Đổi mật khẩu',
  'proposal.accept': 'Chấp nhận đề xuất', 'proposal.reject': 'Từ chối đề xuất',
  'case.claim': 'Nhận hồ sơ', 'case.release': 'Trả hồ sơ', 'case.resolve': 'Kết thúc hồ sơ', 'case.reply': 'Trả lời',
};

export default {
  render(root, ctx) {
    const PAGE = 50;
    let oldest = null;
    let disposed = false;
    const tbody = h('tbody', { id: 'audit-body' });
    const more = h('button', { type: 'button', class: 'btn', id: 'audit-more', testid: 'audit-more', hidden: true, onclick: () => load(true) }, 'Xem cũ hơn');
    root.append(
      h('div', { class: 'pane-head' }, h('h1', null, 'Nhật ký')),
      h('p', { class: 'muted lead' }, 'Mọi thay đổi đối với kho câu hỏi, cài đặt và người dùng, kèm người thực hiện và thời điểm.'),
      h('div', { class: 'card table-card' }, h('table', { class: 'table', id: 'audit-table', testid: 'audit-table' },
        h('thead', null, h('tr', null, ['Thời điểm', 'Người thực hiện', 'Thao tác', 'Đối tượng', 'Chi tiết'].map((t) => h('th', { scope: 'col' }, t)))),
        tbody)),
      h('div', { class: 'form-actions' }, more));

    async function load(append) {
      const q = `?limit=${PAGE}${append && oldest !== null ? `&before=${oldest}` : ''}`;
      try {
        const res = await api.get(`/api/audit${q}`);
        if (disposed) return;
        const rows = res.audit || [];
        if (!append) replace(tbody);
        if (!append && !rows.length) tbody.append(h('tr', null, h('td', { colspan: '5', class: 'empty' }, 'Chưa có thay đổi nào.')));
        for (const a of rows) {
          const detail = a.detail === null || a.detail === undefined ? '' : (typeof a.detail === 'string' ? a.detail : JSON.stringify(a.detail));
          tbody.append(h('tr', { testid: 'audit-row' },
            h('td', { class: 'nowrap' }, fmtDateTime(a.at)),
            h('td', null, a.user || '—'),
            h('td', null, ACTIONS[a.action] || a.action || ''),
            h('td', null, h('code', null, a.target || '')),
            h('td', { class: 'detail-cell', title: detail }, detail.length > 160 ? `${detail.slice(0, 160)}…` : detail)));
        }
        if (rows.length) oldest = rows[rows.length - 1].id;
        more.hidden = rows.length < PAGE;
      } catch (e) { if (!disposed) ctx.toast(e.message, 'error'); }
    }
    load(false);
    return () => { disposed = true; };
  },
};
