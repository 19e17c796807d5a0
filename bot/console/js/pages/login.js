// Đăng nhập
import { h } from '../dom.js';
import * as api from '../api.js';

export default {
  render(root, ctx) {
    const user = h('input', { id: 'login-username', testid: 'login-username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
    const pass = h('input', { id: 'login-password', testid: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const err = h('p', { id: 'login-error', testid: 'login-error', class: 'form-error', role: 'alert', hidden: true });
    const btn = h('button', { type: 'submit', id: 'login-submit', testid: 'login-submit', class: 'btn btn-primary btn-block' }, 'Đăng nhập');

    const form = h('form', { id: 'login-form', class: 'card login-card', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      if (!user.value.trim() || !pass.value) {
        err.textContent = 'Vui lòng nhập tên đăng nhập và mật khẩu.';
        err.hidden = false;
        return;
      }
      btn.disabled = true;
      btn.textContent = 'Đang đăng nhập…';
      try {
        const res = await api.post('/api/login', { username: user.value.trim(), password: pass.value }, { quiet401: true });
        ctx.onLogin(res);
      } catch (e2) {
        err.textContent = e2.status === 401 ? 'Tên đăng nhập hoặc mật khẩu không đúng.'
          : e2.status === 429 ? 'Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.'
          : e2.message;
        err.hidden = false;
        pass.value = '';
        pass.focus();
      } finally {
        btn.disabled = false;
        btn.textContent = 'Đăng nhập';
      }
    } },
    h('h1', null, 'Đăng nhập'),
    h('p', { class: 'muted' }, 'Dành cho cán bộ tiếp nhận và quản trị viên của tổng đài.'),
    h('label', { for: 'login-username' }, 'Tên đăng nhập'), user,
    h('label', { for: 'login-password' }, 'Mật khẩu'), pass,
    err, btn);

    root.classList.add('page-login');
    root.append(form, h('p', { class: 'login-foot muted' }, 'Thông tin của công dân là dữ liệu cá nhân: chỉ dùng để trả lời câu hỏi của họ.'));
    setTimeout(() => user.focus(), 0);
  },
};
