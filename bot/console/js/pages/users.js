// Người dùng (admin) — list, add, change role, lock/unlock, reset password.
import { h, replace, roleLabel, fmtDateTime } from '../dom.js';
import * as api from '../api.js';

const NAME_RE = /^[a-z0-9._-]{1,64}$/;

export default {
  render(root, ctx) {
    let disposed = false;
    const tbody = h('tbody', { id: 'users-body' });
    const table = h('table', { class: 'table', id: 'users-table', testid: 'users-table' },
      h('thead', null, h('tr', null, ['Tên đăng nhập', 'Vai trò', 'Trạng thái', 'Tạo lúc', 'Thao tác'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody);

    const name = h('input', { id: 'user-username', testid: 'user-username', autocomplete: 'off', required: true, autocapitalize: 'none', spellcheck: 'false', maxlength: '64' });
    const pass = h('input', { id: 'user-password', testid: 'user-password', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
    const role = h('select', { id: 'user-role', testid: 'user-role' },
      h('option', { value: 'staff' }, roleLabel('staff')), h('option', { value: 'admin' }, roleLabel('admin')));
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'card', id: 'user-form', testid: 'user-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      const uname = name.value.trim();
      if (!NAME_RE.test(uname)) { err.textContent = 'Tên đăng nhập tối đa 64 ký tự: chữ thường không dấu (a–z), số, dấu chấm, gạch ngang, gạch dưới.'; err.hidden = false; return; }
      if (pass.value.length < 8) { err.textContent = 'Mật khẩu cần ít nhất 8 ký tự.'; err.hidden = false; return; }
      try {
        await api.post('/api/users', { username: uname, password: pass.value, role: role.value });
        ctx.toast(`Đã thêm người dùng ${uname}.`, 'success');
        name.value = ''; pass.value = ''; role.value = 'staff';
        load();
      } catch (e2) { err.textContent = e2.status === 409 ? 'Tên đăng nhập đã tồn tại.' : e2.message; err.hidden = false; }
    } },
    h('h2', null, 'Thêm người dùng'),
    h('div', { class: 'grid-3' },
      h('div', { class: 'field' }, h('label', { for: 'user-username' }, 'Tên đăng nhập'), name),
      h('div', { class: 'field' }, h('label', { for: 'user-password' }, 'Mật khẩu tạm (ít nhất 8 ký tự)'), pass),
      h('div', { class: 'field' }, h('label', { for: 'user-role' }, 'Vai trò'), role)),
    h('p', { class: 'hint' }, 'Cán bộ: xử lý hàng chờ và thử câu hỏi. Quản trị: thêm quyền sửa kho câu hỏi, duyệt đề xuất, cài đặt, người dùng, xem thống kê và nhật ký.'),
    err,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'user-submit', testid: 'user-submit' }, 'Thêm người dùng')));

    root.append(h('div', { class: 'pane-head' }, h('h1', null, 'Người dùng')),
      h('div', { class: 'card table-card' }, table), form);

    async function update(u, patch, okText) {
      try {
        await api.put(`/api/users/${u.id}`, patch);
        ctx.toast(okText, 'success');
      } catch (e) {
        ctx.toast(e.status === 409 ? 'Không thể: hệ thống phải còn ít nhất một quản trị viên đang hoạt động.' : e.message, 'error');
      }
      load();
    }

    function resetPassword(u) {
      const pw = h('input', { type: 'password', id: 'reset-password', testid: 'reset-password', autocomplete: 'new-password', minlength: '8' });
      const e1 = h('p', { class: 'form-error', role: 'alert', hidden: true });
      const dlg = h('dialog', { class: 'dialog', id: 'reset-dialog', 'aria-labelledby': 'reset-title' });
      const close = () => { dlg.close(); dlg.remove(); };
      dlg.append(h('form', { class: 'dialog-form', method: 'dialog', onsubmit: async (ev) => {
        ev.preventDefault();
        if (pw.value.length < 8) { e1.textContent = 'Mật khẩu cần ít nhất 8 ký tự.'; e1.hidden = false; return; }
        close();
        await update(u, { password: pw.value }, `Đã đặt lại mật khẩu cho ${u.username}. Các phiên đăng nhập cũ đã kết thúc.`);
      } },
      h('h2', { id: 'reset-title' }, `Đặt lại mật khẩu cho ${u.username}`),
      h('label', { for: 'reset-password' }, 'Mật khẩu mới'), pw, e1,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: close }, 'Hủy'),
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Đặt lại mật khẩu'))));
      document.body.append(dlg);
      dlg.addEventListener('cancel', () => setTimeout(() => dlg.remove(), 0));
      dlg.showModal();
    }

    async function load() {
      try {
        const res = await api.get('/api/users');
        if (disposed) return;
        replace(tbody, (res.users || []).map((u) => {
          const self = ctx.me && (u.id === ctx.me.id || u.username === ctx.me.username);
          const roleSel = h('select', { 'aria-label': `Vai trò của ${u.username}`, testid: 'user-role-change', disabled: self,
            onchange: () => update(u, { role: roleSel.value }, `${u.username} giờ là ${roleLabel(roleSel.value)}.`) },
          ['staff', 'admin'].map((r) => h('option', { value: r, selected: u.role === r }, roleLabel(r))));
          return h('tr', { testid: 'user-row', class: u.disabled && 'is-disabled', dataset: { username: u.username } },
            h('td', null, h('strong', null, u.username), self ? h('span', { class: 'muted small' }, ' (bạn)') : null),
            h('td', null, h('span', { class: ['role', `role-${u.role}`] }, roleLabel(u.role))),
            h('td', null, u.disabled ? h('span', { class: 'chip chip-off' }, 'Đã khóa') : h('span', { class: 'chip cs-resolved' }, 'Hoạt động')),
            h('td', { class: 'nowrap' }, fmtDateTime(u.created_at)),
            h('td', null, h('div', { class: 'row-actions' },
              roleSel,
              self ? null : h('button', { type: 'button', class: ['btn', 'btn-sm', !u.disabled && 'btn-danger'], testid: 'user-toggle',
                onclick: () => update(u, { disabled: !u.disabled }, u.disabled ? `Đã mở khóa ${u.username}.` : `Đã khóa ${u.username}; các phiên đăng nhập đã kết thúc.`) },
              u.disabled ? 'Mở khóa' : 'Khóa'),
              h('button', { type: 'button', class: 'btn btn-sm', testid: 'user-reset', onclick: () => resetPassword(u) }, 'Đặt lại mật khẩu'))));
        }));
      } catch (e) { if (!disposed) ctx.toast(e.message, 'error'); }
    }
    load();
    return () => { disposed = true; document.querySelectorAll('#reset-dialog').forEach((d) => d.remove()); };
  },
};
