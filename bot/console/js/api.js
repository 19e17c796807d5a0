// api.js — the console's only door to the daemon (bot/API.md).
//
// Keeps the CSRF token from POST /api/login or GET /api/me and sends it as
// X-CSRF-Token on every POST/PUT/DELETE.  A 401 anywhere sends the page back
// to the login screen.

let csrf = '';
let onUnauthorized = () => {};

export function setCsrf(token) { csrf = token || ''; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

const ERRORS = {
  400: 'Yêu cầu không hợp lệ',
  401: 'Phiên đăng nhập đã hết, vui lòng đăng nhập lại',
  403: 'Bạn không có quyền thực hiện thao tác này',
  404: 'Không tìm thấy',
  409: 'Xung đột dữ liệu',
  413: 'Dữ liệu gửi lên quá lớn',
  415: 'Định dạng dữ liệu không được hỗ trợ',
  429: 'Thao tác quá nhiều lần, vui lòng thử lại sau ít phút',
  503: 'Máy chủ tạm thời không sẵn sàng',
};

export class ApiError extends Error {
  constructor(status, reason) {
    const base = ERRORS[status] || `Lỗi máy chủ (${status})`;
    super(reason ? `${base}: ${reason}` : base);
    this.status = status;
    this.reason = reason || '';
  }
}

/**
 * request('POST', '/api/cases/3/claim', {..}) -> parsed JSON.
 * opts.raw: body is a string sent as is with opts.type as Content-Type.
 * opts.quiet401: do not redirect to login on 401 (session probe).
 */
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  if (opts.raw !== undefined) {
    headers['Content-Type'] = opts.type || 'application/json';
    init.body = opts.raw;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'không kết nối được máy chủ');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { text }; }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet401) onUnauthorized();
    throw new ApiError(res.status, data && typeof data.error === 'string' ? data.error : '');
  }
  return data || {};
}

export const get = (p, o) => request('GET', p, undefined, o);
export const post = (p, b, o) => request('POST', p, b === undefined ? {} : b, o);
export const put = (p, b, o) => request('PUT', p, b, o);
export const del = (p, o) => request('DELETE', p, undefined, o);

export const enc = encodeURIComponent;
