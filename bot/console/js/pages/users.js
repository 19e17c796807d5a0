// Người dùng (admin) — list and add staff/admin accounts.
import { h, replace, roleLabel, fmtDateTime } from '../dom.js';
import * as api from '../api.js';

export default {
  render(root, ctx) {
    let disposed = false;
    const tbody = h('tbody', { id: 'users-body' });
    const table = h('table', { class: 'table', id: 'users-table', testid: 'users-table' },
      h('thead', null, h('tr', null, ['Tên đăng nhập', 'Vai trò', 'Trạng thái', 'Tạo lúc'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody);

    const name = h('input', { id: 'user-username', testid: 'user-username', autocomplete: 'off', required: true, autocapitalize: 'none', spellcheck: 'false' });
    const pass = h('input', { id: 'user-password', testid: 'user-password', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
    const role = h('select', { id: 'user-role', testid: 'user-role' },
      h('option', { value: 'staff' }, roleLabel('staff')), h('option', { value: 'admin' }, roleLabel('admin')));
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'card', id: 'user-form', testid: 'user-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      if (!/^[A-Za-z0-9._-]{2,64}$/.test(name.value.trim())) { err.textContent = 'Tên đăng nhập 2–64 ký tự: chữ không dấu, số, dấu chấm, gạch ngang, gạch dưới.'; err.hidden = false; return; }
      if (pass.value.length < 8) { err.textContent = 'Mật khẩu cần ít nhất 8 ký tự.'; err.hidden = false; return; }
      try {
        await api.post('/api/users', { username: name.value.trim(), password: pass.value, role: role.value });
        ctx.toast(`Đã thêm người dùng ${name.value.trim()}.`, 'success');
        name.value = ''; pass.value = ''; role.value = 'staff';
        load();
      } catch (e2) { err.textContent = e2.status === 409 ? 'Tên đăng nhập đã tồn tại.' : e2.message; err.hidden = false; }
    } },
    h('h2', null, 'Thêm người dùng'),
    h('div', { class: 'grid-3' },
      h('div', { class: 'field' }, h('label', { for: 'user-username' }, 'Tên đăng nhập'), name),
      h('div', { class: 'field' }, h('label', { for: 'user-password' }, 'Mật khẩu tạm'), pass),
      h('div', { class: 'field' }, h('label', { for: 'user-role' }, 'Vai trò'), role)),
    h('p', { class: 'hint' }, 'Cán bộ: xử lý hàng chờ. Quản trị: thêm quyền sửa kho câu hỏi, cài đặt, người dùng, xem thống kê và nhật ký.'),
    err,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'user-submit', testid: 'user-submit' }, 'Thêm người dùng')));

    root.append(h('div', { class: 'pane-head' }, h('h1', null, 'Người dùng')),
      h('div', { class: 'card table-card' }, table), form);

    async function load() {
      try {
        const res = await api.get('/api/users');
        if (disposed) return;
        replace(tbody, (res.users || []).map((u) => h('tr', { testid: 'user-row', dataset: { username: u.username } },
          h('td', null, h('strong', null, u.username)),
          h('td', null, h('span', { class: ['role', `role-${u.role}`] }, roleLabel(u.role))),
          h('td', null, u.disabled ? h('span', { class: 'chip chip-off' }, 'Đã khóa') : h('span', { class: 'chip cs-resolved' }, 'Hoạt động')),
          h('td', null, fmtDateTime(u.created_at)))));
      } catch (e) { if (!disposed) ctx.toast(e.message, 'error'); }
    }
    load();
    return () => { disposed = true; };
  },
};
