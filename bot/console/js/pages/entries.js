// Kho câu hỏi (admin) — list with search, edit, enable/disable, add, delete,
// import/export.  answer_sms shows its SMS segment count as you type.
import { h, replace, debounce, fmtInt } from '../dom.js';
import * as api from '../api.js';
import { download } from '../dom.js';

const EMPTY = { id: '', topic: '', department: '', question: '', variants: [], keywords: [], answer: '', answer_sms: '', enabled: true };

export default {
  render(root, ctx) {
    const st = { q: sessionStorage.getItem('hl.entries.q') || '', entries: [], current: null, isNew: false, dirty: false, disposed: false };
    const wanted = ctx.args[0] || null;

    // ---------- list ----------
    const search = h('input', { type: 'search', id: 'entries-search', testid: 'entries-search', value: st.q,
      placeholder: 'Tìm theo câu hỏi, từ khóa, mã…', 'aria-label': 'Tìm trong kho câu hỏi',
      oninput: debounce(() => { st.q = search.value; sessionStorage.setItem('hl.entries.q', st.q); loadList(); }, 250) });
    const countEl = h('span', { class: 'count-pill', id: 'entries-count', testid: 'entries-count' }, '0');
    const list = h('ul', { class: 'entry-list', id: 'entries-list', testid: 'entries-list' });
    const fileIn = h('input', { type: 'file', id: 'import-file', testid: 'import-file', accept: '.json,.csv,application/json,text/csv', class: 'visually-hidden',
      onchange: () => importFile(fileIn.files[0]) });
    const importResult = h('div', { id: 'import-result', testid: 'import-result', class: 'import-result', hidden: true, role: 'status' });
    const toolbar = h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'btn btn-primary btn-sm', id: 'entry-new', testid: 'entry-new', onclick: () => openNew() }, '+ Thêm mục'),
      h('label', { for: 'import-file', class: 'btn btn-sm', id: 'import-label', tabindex: '0',
        onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileIn.click(); } } }, 'Nhập tệp…'), fileIn,
      h('button', { type: 'button', class: 'btn btn-sm', id: 'export', testid: 'export', onclick: exportAll }, 'Xuất JSON'));
    const listPane = h('div', { class: 'entries-list-pane' },
      h('div', { class: 'pane-head' }, h('h1', null, 'Kho câu hỏi ', countEl)),
      search, toolbar, importResult, list);
    const editPane = h('div', { class: 'entries-edit-pane', id: 'entry-editor', testid: 'entry-editor' });
    const layout = h('div', { class: 'entries-layout' }, listPane, editPane);
    root.append(layout);

    async function loadList() {
      try {
        const res = await api.get(`/api/entries${st.q ? `?q=${api.enc(st.q)}` : ''}`);
        if (st.disposed) return;
        st.entries = res.entries || [];
        renderList();
      } catch (e) { if (!st.disposed) ctx.toast(e.message, 'error'); }
    }

    function renderList() {
      countEl.textContent = fmtInt(st.entries.length);
      if (!st.entries.length) {
        replace(list, h('li', { class: 'empty' }, st.q ? 'Không có mục nào khớp với từ tìm kiếm.' : 'Kho câu hỏi đang trống. Hãy thêm mục hoặc nhập tệp.'));
        return;
      }
      replace(list, st.entries.map((e) => h('li', null, h('a', {
        href: `#/entries/${api.enc(e.id)}`,
        class: ['entry-row', !e.enabled && 'is-disabled', st.current && st.current.id === e.id && 'is-selected'],
        testid: 'entry-row', dataset: { entryId: e.id },
        onclick: (ev) => { ev.preventDefault(); openEntry(e.id); },
      },
      h('span', { class: 'entry-q' }, e.question || '(chưa có câu hỏi)'),
      h('span', { class: 'entry-meta' },
        h('code', null, e.id),
        e.topic ? h('span', null, e.topic) : null,
        h('span', null, `${(e.variants || []).length} cách hỏi · ${(e.keywords || []).length} từ khóa`),
        e.enabled ? null : h('span', { class: 'chip chip-off' }, 'Đang tắt'))))));
    }

    // ---------- editor ----------
    async function openEntry(id) {
      if (st.dirty && !confirm('Bạn có thay đổi chưa lưu. Bỏ qua thay đổi?')) return;
      history.replaceState(null, '', `#/entries/${api.enc(id)}`);
      try {
        const res = await api.get(`/api/entries/${api.enc(id)}`);
        if (st.disposed) return;
        st.current = res.entry || res;
        st.isNew = false;
        renderEditor();
        renderList();
      } catch (e) { ctx.toast(e.message, 'error'); }
    }

    function openNew(prefill) {
      if (st.dirty && !confirm('Bạn có thay đổi chưa lưu. Bỏ qua thay đổi?')) return;
      history.replaceState(null, '', '#/entries/new');
      st.current = { ...EMPTY, ...(prefill || {}) };
      st.isNew = true;
      renderEditor();
      renderList();
    }

    function renderEditor() {
      st.dirty = false;
      const e = st.current;
      if (!e) {
        layout.classList.remove('has-detail');
        replace(editPane, h('div', { class: 'empty empty-detail' },
          h('strong', null, 'Chọn một mục để sửa, hoặc thêm mục mới.'), h('br'),
          'Mọi thay đổi có hiệu lực ngay cho tin nhắn tiếp theo, không cần khởi động lại.'));
        return;
      }
      layout.classList.add('has-detail');
      const markDirty = () => { st.dirty = true; };
      const field = (id, label, input, hint) => h('div', { class: 'field' },
        h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null);

      const idIn = h('input', { id: 'entry-id', testid: 'entry-id', value: e.id || '', readonly: !st.isNew, placeholder: st.isNew ? 'Để trống: tạo từ câu hỏi' : '', oninput: markDirty });
      const topicIn = h('input', { id: 'entry-topic', testid: 'entry-topic', value: e.topic || '', oninput: markDirty });
      const deptIn = h('input', { id: 'entry-department', testid: 'entry-department', value: e.department || '', oninput: markDirty });
      const qIn = h('input', { id: 'entry-question', testid: 'entry-question', value: e.question || '', required: true, oninput: markDirty });
      const varIn = h('textarea', { id: 'entry-variants', testid: 'entry-variants', rows: 4, oninput: markDirty });
      varIn.value = (e.variants || []).join('\n');

      // keywords table
      const kwBody = h('tbody', { id: 'kw-body' });
      const addKw = (term = '', weight = 1) => {
        const tIn = h('input', { class: 'kw-term', testid: 'kw-term', value: term, 'aria-label': 'Từ khóa', oninput: markDirty });
        const wIn = h('input', { class: 'kw-weight', testid: 'kw-weight', type: 'number', step: '0.5', min: '0', max: '10', value: String(weight), 'aria-label': 'Trọng số', oninput: markDirty });
        const row = h('tr', { testid: 'kw-row' },
          h('td', null, tIn), h('td', null, wIn),
          h('td', null, h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': 'Xóa từ khóa', title: 'Xóa từ khóa',
            onclick: () => { row.remove(); markDirty(); } }, '✕')));
        kwBody.append(row);
        return tIn;
      };
      for (const k of e.keywords || []) addKw(k.term, k.weight);
      const kwTable = h('table', { class: 'kw-table', id: 'entry-keywords', testid: 'entry-keywords' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Từ khóa'), h('th', { scope: 'col' }, 'Trọng số'), h('th', null, h('span', { class: 'visually-hidden' }, 'Xóa')))),
        kwBody);
      const kwAdd = h('button', { type: 'button', class: 'btn btn-sm', id: 'kw-add', testid: 'kw-add', onclick: () => { addKw('', 1).focus(); markDirty(); } }, '+ Thêm từ khóa');

      const ansIn = h('textarea', { id: 'entry-answer', testid: 'entry-answer', rows: 7, oninput: markDirty });
      ansIn.value = e.answer || '';
      const smsIn = h('textarea', { id: 'entry-answer-sms', testid: 'entry-answer-sms', rows: 4 });
      smsIn.value = e.answer_sms || '';
      const smsCount = h('p', { class: 'sms-count', id: 'sms-count', testid: 'sms-count', 'aria-live': 'polite' });
      let smsSeq = 0;
      const renderSms = async () => {
        const text = smsIn.value;
        const seq = ++smsSeq;
        if (!text) { smsCount.textContent = 'Chưa có nội dung SMS.'; smsCount.dataset.segments = '0'; return; }
        try {
          const r = await api.post('/api/sms/render', { text });
          if (seq !== smsSeq) return;
          smsCount.dataset.segments = String(r.segments);
          smsCount.className = ['sms-count', r.segments > 2 ? 'warn' : ''].join(' ');
          smsCount.textContent = `${r.segments} tin SMS · ${r.chars ?? [...text].length} ký tự${r.coding ? ` · mã hóa ${r.coding}` : ''}`;
          smsCount.title = r.text && r.text !== text ? `Nội dung thực gửi: ${r.text}` : '';
        } catch (err) {
          if (seq === smsSeq) smsCount.textContent = `Không đếm được số tin SMS (${err.message})`;
        }
      };
      const smsDeb = debounce(renderSms, 300);
      smsIn.addEventListener('input', () => { markDirty(); smsCount.textContent = 'Đang đếm…'; smsDeb(); });
      renderSms();

      const enIn = h('input', { type: 'checkbox', id: 'entry-enabled', testid: 'entry-enabled', checked: e.enabled !== false, onchange: markDirty });
      const err = h('p', { class: 'form-error', role: 'alert', hidden: true, id: 'entry-error' });
      const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'entry-save', testid: 'entry-save' }, st.isNew ? 'Thêm mục' : 'Lưu thay đổi');

      const collect = () => ({
        id: idIn.value.trim() || undefined,
        topic: topicIn.value.trim(),
        department: deptIn.value.trim(),
        question: qIn.value.trim(),
        variants: varIn.value.split('\n').map((x) => x.trim()).filter(Boolean),
        keywords: [...kwBody.querySelectorAll('tr')].map((tr) => ({
          term: tr.querySelector('.kw-term').value.trim(),
          weight: Number(tr.querySelector('.kw-weight').value),
        })).filter((k) => k.term),
        answer: ansIn.value.trim(),
        answer_sms: smsIn.value.trim(),
        enabled: enIn.checked,
      });

      const form = h('form', { class: 'card entry-form', id: 'entry-form', testid: 'entry-form', novalidate: true, onsubmit: async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        const body = collect();
        const bad = [];
        if (!body.question) bad.push('câu hỏi');
        if (!body.answer) bad.push('câu trả lời');
        if (body.keywords.some((k) => !Number.isFinite(k.weight) || k.weight < 0)) bad.push('trọng số (số không âm)');
        if (bad.length) { err.textContent = `Vui lòng nhập ${bad.join(', ')}.`; err.hidden = false; return; }
        saveBtn.disabled = true;
        try {
          let res;
          if (st.isNew) res = await api.post('/api/entries', body);
          else res = await api.put(`/api/entries/${api.enc(e.id)}`, { ...body, id: e.id });
          st.current = res.entry || { ...body, id: body.id || e.id };
          const wasNew = st.isNew;
          st.isNew = false;
          ctx.toast(wasNew ? 'Đã thêm mục mới. Có hiệu lực ngay.' : 'Đã lưu. Thay đổi có hiệu lực ngay.', 'success');
          history.replaceState(null, '', `#/entries/${api.enc(st.current.id)}`);
          renderEditor();
          loadList();
        } catch (e2) {
          err.textContent = e2.status === 409 ? 'Mã mục này đã tồn tại. Hãy đặt mã khác.' : e2.message;
          err.hidden = false;
        } finally { saveBtn.disabled = false; }
      } },
      h('div', { class: 'form-head' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm back-btn', onclick: () => { st.current = null; history.replaceState(null, '', '#/entries'); renderEditor(); renderList(); } }, '← Danh sách'),
        h('h2', null, st.isNew ? 'Thêm mục mới' : 'Sửa mục'),
        h('label', { class: 'switch', for: 'entry-enabled' }, enIn, h('span', null, 'Đang dùng'))),
      h('div', { class: 'grid-3' },
        field('entry-id', 'Mã mục', idIn),
        field('entry-topic', 'Chủ đề', topicIn),
        field('entry-department', 'Cơ quan phụ trách', deptIn)),
      field('entry-question', 'Câu hỏi chính', qIn),
      field('entry-variants', 'Các cách hỏi khác', varIn, 'Mỗi dòng một cách hỏi, viết như công dân thường nhắn.'),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Từ khóa và trọng số'), kwTable, kwAdd,
        h('p', { class: 'hint' }, 'Trọng số càng cao, từ khóa càng quyết định việc khớp (thường từ 0,5 đến 3).')),
      field('entry-answer', 'Câu trả lời (Zalo, web)', ansIn),
      field('entry-answer-sms', 'Câu trả lời rút gọn cho SMS', smsIn),
      smsCount,
      err,
      h('div', { class: 'form-actions' },
        saveBtn,
        st.isNew ? null : h('button', { type: 'button', class: 'btn', id: 'entry-try', testid: 'entry-try',
          onclick: () => { sessionStorage.setItem('hl.try.text', qIn.value); ctx.navigate('#/try'); } }, 'Thử câu hỏi này'),
        st.isNew ? null : h('button', { type: 'button', class: 'btn btn-danger', id: 'entry-delete', testid: 'entry-delete', onclick: removeEntry }, 'Xóa mục')));
      replace(editPane, form);
    }

    async function removeEntry() {
      const e = st.current;
      if (!e || !confirm(`Xóa mục "${e.question}"? Thao tác này không hoàn tác được (có ghi nhật ký).`)) return;
      try {
        await api.del(`/api/entries/${api.enc(e.id)}`);
        ctx.toast('Đã xóa mục.', 'success');
        st.current = null;
        history.replaceState(null, '', '#/entries');
        renderEditor();
        loadList();
      } catch (err) { ctx.toast(err.message, 'error'); }
    }

    // ---------- import / export ----------
    async function importFile(file) {
      if (!file) return;
      const text = await file.text();
      fileIn.value = '';
      const isCsv = /\.csv$/i.test(file.name) || file.type === 'text/csv' || !/^\s*[{[]/.test(text);
      try {
        const res = await api.post('/api/import', undefined, { raw: text, type: isCsv ? 'text/csv' : 'application/json' });
        const errors = res.errors || [];
        replace(importResult,
          h('strong', null, `Đã nhập ${fmtInt(res.imported || 0)} mục từ ${file.name}.`),
          errors.length ? h('ul', null, errors.slice(0, 20).map((x) => h('li', null, typeof x === 'string' ? x : JSON.stringify(x)))) : null,
          errors.length > 20 ? h('p', null, `… và ${errors.length - 20} lỗi khác.`) : null);
        importResult.hidden = false;
        importResult.classList.toggle('has-errors', errors.length > 0);
        loadList();
      } catch (e) {
        replace(importResult, h('strong', null, `Không nhập được ${file.name}: ${e.message}`));
        importResult.hidden = false;
        importResult.classList.add('has-errors');
      }
    }

    async function exportAll() {
      try {
        const res = await api.get('/api/export');
        const day = new Date().toISOString().slice(0, 10);
        download(`kho-cau-hoi-${day}.json`, JSON.stringify(res, null, 2), 'application/json');
      } catch (e) { ctx.toast(e.message, 'error'); }
    }

    const beforeUnload = (ev) => { if (st.dirty) { ev.preventDefault(); ev.returnValue = ''; } };
    window.addEventListener('beforeunload', beforeUnload);

    loadList();
    if (wanted === 'new') openNew();
    else if (wanted) openEntry(wanted);
    else renderEditor();

    return () => { st.disposed = true; window.removeEventListener('beforeunload', beforeUnload); };
  },
};
