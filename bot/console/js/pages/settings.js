// Cài đặt (admin) — matcher threshold and gap, texts sent to citizens, limits.
import { h, replace, debounce } from '../dom.js';
import * as api from '../api.js';

const FIELDS = [
  { key: 'threshold', label: 'Ngưỡng tự trả lời', type: 'number', step: '0.01', min: '0',
    hint: 'Độ tin cậy tối thiểu để hệ thống tự trả lời. Cao hơn: ít trả lời sai hơn nhưng chuyển cán bộ nhiều hơn.' },
  { key: 'gap', label: 'Khoảng cách tối thiểu giữa hai mục đầu', type: 'number', step: '0.01', min: '0',
    hint: 'Nếu hai mục gần nhất chênh nhau ít hơn mức này, tin nhắn được coi là chưa rõ và chuyển cán bộ.' },
  { key: 'holding_text', label: 'Tin báo chờ cán bộ', type: 'textarea', sms: true,
    hint: 'Gửi một lần cho mỗi hồ sơ khi tin nhắn được chuyển cho cán bộ.' },
  { key: 'optout_text', label: 'Tin xác nhận từ chối nhận tin', type: 'textarea', sms: true },
  { key: 'non_text_reply', label: 'Trả lời khi nhận tin không phải văn bản', type: 'textarea', sms: true },
  { key: 'limit_auto_replies', label: 'Số tin tự trả lời tối đa cho một người', type: 'number', step: '1', min: '0' },
  { key: 'limit_window', label: 'Trong khoảng thời gian (giây)', type: 'number', step: '1', min: '1' },
  { key: 'sms_unaccent', label: 'Bỏ dấu tiếng Việt khi gửi SMS', type: 'select',
    options: [['auto', 'Tự động (khi giúp giảm số tin)'], ['always', 'Luôn bỏ dấu'], ['never', 'Giữ nguyên dấu']] },
  { key: 'sms_max_segments', label: 'Số tin SMS tối đa cho một câu trả lời', type: 'number', step: '1', min: '1' },
];

export default {
  render(root, ctx) {
    let disposed = false;
    let original = {};
    const inputs = new Map();
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'card settings-form', id: 'settings-form', testid: 'settings-form', novalidate: true, onsubmit: save });
    // Lexicon (abbreviations, synonyms, weights, "asked for a person" phrases) as JSON.
    const lexText = h('textarea', { id: 'lexicon-json', testid: 'lexicon-json', rows: 18, spellcheck: 'false', class: 'code' });
    const lexErr = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const lexInfo = h('p', { class: 'hint', id: 'lexicon-info' });
    const lexForm = h('form', { class: 'card settings-form', id: 'lexicon-form', testid: 'lexicon-form', novalidate: true, onsubmit: saveLexicon },
      h('h2', null, 'Từ điển chuẩn hóa'),
      h('p', { class: 'hint' }, 'Từ viết tắt (ko → không), nhóm đồng nghĩa, trọng số từ và các cụm từ công dân dùng khi muốn gặp cán bộ. Định dạng như knowledge/data/lexicon.json. Lưu xong có hiệu lực ngay.'),
      lexText, lexInfo, lexErr,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'lexicon-save', testid: 'lexicon-save' }, 'Lưu từ điển'),
        h('button', { type: 'button', class: 'btn', onclick: loadLexicon }, 'Tải lại')));

    root.append(h('div', { class: 'pane-head' }, h('h1', null, 'Cài đặt')),
      h('p', { class: 'muted lead' }, 'Các thay đổi có hiệu lực ngay và được ghi vào nhật ký.'), form, lexForm);

    function lexSummary(doc) {
      const n = (x) => (Array.isArray(x) ? x.length : x && typeof x === 'object' ? Object.keys(x).length : 0);
      return `${n(doc.abbreviations)} từ viết tắt · ${n(doc.synonyms)} nhóm đồng nghĩa · ${n(doc.weights)} trọng số · ${n(doc.human)} cụm “muốn gặp cán bộ”`;
    }

    async function loadLexicon() {
      lexErr.hidden = true;
      try {
        const doc = await api.get('/api/lexicon');
        if (disposed) return;
        lexText.value = JSON.stringify(doc, null, 2);
        lexInfo.textContent = lexSummary(doc);
      } catch (e) { if (!disposed) { lexErr.textContent = e.message; lexErr.hidden = false; } }
    }

    async function saveLexicon(e) {
      e.preventDefault();
      lexErr.hidden = true;
      let doc;
      try { doc = JSON.parse(lexText.value); } catch (err) {
        lexErr.textContent = `JSON không hợp lệ: ${err.message}`; lexErr.hidden = false; return;
      }
      try {
        const res = await api.put('/api/lexicon', doc);
        const saved = res && Object.keys(res).length ? res : doc;
        lexText.value = JSON.stringify(saved, null, 2);
        lexInfo.textContent = lexSummary(saved);
        ctx.toast('Đã lưu từ điển. Có hiệu lực ngay.', 'success');
      } catch (err) { lexErr.textContent = err.message; lexErr.hidden = false; }
    }

    function build(values) {
      inputs.clear();
      const rows = FIELDS.map((f) => {
        const id = `set-${f.key.replace(/_/g, '-')}`;
        let input;
        const v = values[f.key];
        if (f.type === 'textarea') {
          input = h('textarea', { id, testid: id, rows: 3 });
          input.value = v ?? '';
        } else if (f.type === 'select') {
          const opts = f.options.slice();
          if (v !== undefined && v !== null && !opts.some(([o]) => o === String(v))) opts.push([String(v), String(v)]);
          input = h('select', { id, testid: id }, opts.map(([o, l]) => h('option', { value: o, selected: String(v) === o }, l)));
        } else {
          input = h('input', { id, testid: id, type: 'number', step: f.step, min: f.min, value: v ?? '' });
        }
        inputs.set(f.key, { f, input });
        const extra = [];
        if (f.sms) {
          const c = h('p', { class: 'sms-count', testid: `${id}-sms` });
          const upd = debounce(async () => {
            if (!input.value) { c.textContent = ''; return; }
            try { const r = await api.post('/api/sms/render', { text: input.value }); c.textContent = `${r.segments} tin SMS · ${r.chars ?? ''} ký tự`; } catch { c.textContent = ''; }
          }, 300);
          input.addEventListener('input', upd);
          upd();
          extra.push(c);
        }
        return h('div', { class: 'field' }, h('label', { for: id }, f.label), input, extra, f.hint ? h('p', { class: 'hint' }, f.hint) : null);
      });
      const known = new Set(FIELDS.map((f) => f.key));
      const others = Object.keys(values).filter((k) => !known.has(k));
      replace(form,
        h('fieldset', null, h('legend', null, 'Đối chiếu câu hỏi'), rows.slice(0, 2)),
        h('fieldset', null, h('legend', null, 'Tin nhắn gửi công dân'), rows.slice(2, 5)),
        h('fieldset', null, h('legend', null, 'Giới hạn và SMS'), rows.slice(5)),
        others.length ? h('p', { class: 'hint' }, `Khác: ${others.map((k) => `${k} = ${JSON.stringify(values[k])}`).join('; ')}`) : null,
        err,
        h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'settings-save', testid: 'settings-save' }, 'Lưu cài đặt')));
    }

    async function load() {
      try {
        const res = await api.get('/api/settings');
        if (disposed) return;
        original = res;
        build(res);
      } catch (e) { if (!disposed) replace(form, h('p', { class: 'form-error' }, e.message)); }
    }

    async function save(e) {
      e.preventDefault();
      err.hidden = true;
      const patch = {};
      for (const [key, { f, input }] of inputs) {
        let v = input.value;
        if (f.type === 'number') {
          if (v === '' || !Number.isFinite(Number(v))) { err.textContent = `Giá trị không hợp lệ: ${f.label}`; err.hidden = false; input.focus(); return; }
          v = Number(v);
        }
        if (v !== original[key]) patch[key] = v;
      }
      if (!Object.keys(patch).length) { ctx.toast('Không có thay đổi nào.'); return; }
      try {
        const res = await api.put('/api/settings', patch);
        original = res && Object.keys(res).length ? res : { ...original, ...patch };
        build(original);
        ctx.toast('Đã lưu cài đặt.', 'success');
      } catch (e2) { err.textContent = e2.message; err.hidden = false; }
    }

    load();
    loadLexicon();
    return () => { disposed = true; };
  },
};
