// Thống kê (admin) — per day and channel: messages in, answered automatically,
// escalated by reason; time to first staff reply; top unmatched words.
import { h, replace, fmtInt, fmtDuration, fmtPct, reasonLabel, channelLabel, REASONS } from '../dom.js';
import * as api from '../api.js';
import { stackedBars, hBars, rangeChart, PALETTE } from '../charts.js';

const CH_COLORS = { sms: '#1f5fa8', zalo: '#138a8a', web: '#7b4fa0' };
const RS_COLORS = { no_match: '#b3261e', ambiguous: '#d98a00', low_confidence: '#e0b100', asked_for_human: '#7b4fa0', non_text: '#6b6f76', rate_limited: '#c2185b' };

const shortDay = (d) => { const [, m, dd] = String(d).split('-'); return dd && m ? `${dd}/${m}` : String(d); };

export default {
  render(root, ctx) {
    let days = Number(sessionStorage.getItem('hl.stats.days')) || 7;
    let disposed = false;
    const sel = h('select', { id: 'stats-days', testid: 'stats-days', 'aria-label': 'Khoảng thời gian',
      onchange: () => { days = Number(sel.value); sessionStorage.setItem('hl.stats.days', String(days)); load(); } },
    [7, 14, 30, 90].map((d) => h('option', { value: String(d), selected: d === days }, `${d} ngày gần nhất`)));
    const body = h('div', { id: 'stats-body', testid: 'stats-body' }, h('p', { class: 'muted' }, 'Đang tải…'));
    root.append(h('div', { class: 'pane-head' }, h('h1', null, 'Thống kê'), sel), body);

    async function load() {
      let res;
      try { res = await api.get(`/api/stats?days=${days}`); } catch (e) { if (!disposed) replace(body, h('p', { class: 'form-error' }, e.message)); return; }
      if (disposed) return;
      draw(res);
    }

    function draw(res) {
      const rows = res.days || [];
      // Continuous day axis (days without traffic count as zero).  Days are
      // the server's; the axis ends on its latest day with data (or today).
      const dayset = new Set(rows.map((r) => r.day));
      const now = new Date();
      const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
      const endDay = rows.length ? [...dayset].sort().pop() : today;
      const endUtc = Date.UTC(Number(endDay.slice(0, 4)), Number(endDay.slice(5, 7)) - 1, Number(endDay.slice(8, 10)));
      for (let i = 0; i < days && !Number.isNaN(endUtc); i++) dayset.add(new Date(endUtc - i * 86400000).toISOString().slice(0, 10));
      const cats = [...dayset].sort().slice(-Math.max(days, 1));
      const channels = [...new Set(rows.map((r) => r.channel))].sort();
      const reasons = [...new Set(rows.flatMap((r) => Object.keys(r.escalated || {})))]
        .sort((a, b) => Object.keys(REASONS).indexOf(a) - Object.keys(REASONS).indexOf(b));
      const sum = (f, filter = () => true) => rows.filter(filter).reduce((a, r) => a + (Number(f(r)) || 0), 0);
      const escTotal = (r) => Object.values(r.escalated || {}).reduce((a, n) => a + (Number(n) || 0), 0);

      const totalIn = sum((r) => r.messages_in);
      const totalAuto = sum((r) => r.auto_answered);
      const totalEsc = sum(escTotal);
      const fr = res.first_reply_ms || {};

      const kpi = (label, value, sub, id) => h('div', { class: 'kpi', testid: id },
        h('span', { class: 'kpi-label' }, label), h('span', { class: 'kpi-value' }, value), sub ? h('span', { class: 'kpi-sub' }, sub) : null);

      const inChart = stackedBars({
        title: 'Tin nhắn đến theo ngày và kênh', testid: 'chart-in', categories: cats, formatCat: shortDay,
        series: channels.map((c, i) => ({ label: channelLabel(c), color: CH_COLORS[c] || PALETTE[i % PALETTE.length],
          values: cats.map((d) => sum((r) => r.messages_in, (r) => r.day === d && r.channel === c)) })),
      });
      const outcomeChart = stackedBars({
        title: 'Kết quả xử lý theo ngày', testid: 'chart-outcome', categories: cats, formatCat: shortDay,
        series: [{ label: 'Tự động trả lời', color: '#2e8b57', values: cats.map((d) => sum((r) => r.auto_answered, (r) => r.day === d)) }]
          .concat(reasons.map((rs, i) => ({ label: `Chuyển cán bộ: ${reasonLabel(rs)}`, color: RS_COLORS[rs] || PALETTE[(i + 3) % PALETTE.length],
            values: cats.map((d) => sum((r) => (r.escalated || {})[rs], (r) => r.day === d)) }))),
      });
      const reasonChart = hBars({
        title: 'Chuyển cán bộ theo lý do', testid: 'chart-reasons',
        items: reasons.map((rs) => ({ label: reasonLabel(rs), value: sum((r) => (r.escalated || {})[rs]), color: RS_COLORS[rs] })),
      });
      const frRows = rows.filter((r) => r.first_reply_ms && r.first_reply_ms.n);
      const frChart = frRows.length ? rangeChart({
        title: 'Thời gian tới phản hồi đầu tiên của cán bộ (trung vị – phân vị 90)', testid: 'chart-first-reply',
        categories: cats, formatCat: shortDay,
        series: channels.map((c, i) => ({ label: channelLabel(c), color: CH_COLORS[c] || PALETTE[i % PALETTE.length],
          values: cats.map((d) => { const r = frRows.find((x) => x.day === d && x.channel === c); return r ? { lo: r.first_reply_ms.p50, hi: r.first_reply_ms.p90, n: r.first_reply_ms.n } : null; }) })),
        format: (ms) => fmtDuration(ms),
        steps: [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((x) => x * 1000),
        tickFormat: (ms) => { const m = Math.round(ms / 60000); return ms < 60000 ? `${Math.round(ms / 1000)} giây` : m < 60 ? `${m} phút` : m % 60 ? `${Math.floor(m / 60)} giờ ${m % 60}` : `${m / 60} giờ`; },
      }) : null;
      const words = (res.top_unmatched || []).slice(0, 15);
      const wordChart = hBars({ title: 'Từ thường gặp trong tin không khớp', testid: 'chart-unmatched', color: '#b3261e',
        items: words.map((w) => ({ label: w.word, value: w.count })) });

      const table = h('table', { class: 'table', testid: 'stats-table' },
        h('caption', null, 'Số liệu chi tiết theo ngày và kênh'),
        h('thead', null, h('tr', null, ['Ngày', 'Kênh', 'Tin đến', 'Tự trả lời', 'Chuyển cán bộ', 'Lý do chuyển', 'Phản hồi đầu (trung vị / P90)'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, rows.length ? rows.slice().sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : String(a.channel).localeCompare(b.channel))).map((r) => h('tr', null,
          h('td', { class: 'nowrap' }, shortDay(r.day)), h('td', null, channelLabel(r.channel)),
          h('td', { class: 'num' }, fmtInt(r.messages_in)), h('td', { class: 'num' }, fmtInt(r.auto_answered)),
          h('td', { class: 'num' }, fmtInt(escTotal(r))),
          h('td', { class: 'small' }, Object.entries(r.escalated || {}).filter(([, n]) => n).map(([k, n]) => `${reasonLabel(k)}: ${n}`).join('; ') || '—'),
          h('td', { class: 'small nowrap' }, r.first_reply_ms && r.first_reply_ms.n ? `${fmtDuration(r.first_reply_ms.p50)} / ${fmtDuration(r.first_reply_ms.p90)}` : '—')))
          : h('tr', null, h('td', { colspan: '7', class: 'empty' }, 'Chưa có tin nhắn nào trong khoảng thời gian này.'))));

      replace(body,
        h('div', { class: 'kpis' },
          kpi('Tin nhắn đến', fmtInt(totalIn), `${days} ngày`, 'kpi-in'),
          kpi('Tự động trả lời', fmtInt(totalAuto), totalIn ? `${fmtPct(totalAuto / totalIn)} số tin` : '', 'kpi-auto'),
          kpi('Chuyển cán bộ', fmtInt(totalEsc), totalIn ? `${fmtPct(totalEsc / totalIn)} số tin` : '', 'kpi-esc'),
          kpi('Thời gian phản hồi đầu tiên (trung vị)', fr.n ? fmtDuration(fr.p50) : '—', fr.n ? `${fmtInt(fr.n)} hồ sơ` : 'chưa có dữ liệu', 'kpi-p50'),
          kpi('90% hồ sơ được phản hồi trong', fr.n ? fmtDuration(fr.p90) : '—', 'phân vị 90', 'kpi-p90')),
        h('div', { class: 'chart-grid' },
          h('div', { class: 'card' }, inChart),
          h('div', { class: 'card' }, outcomeChart),
          h('div', { class: 'card' }, reasons.length ? reasonChart : h('p', { class: 'muted' }, 'Chưa có tin nào phải chuyển cán bộ.')),
          h('div', { class: 'card' }, words.length ? wordChart : h('p', { class: 'muted' }, 'Chưa có từ nào trong tin không khớp.')),
          h('div', { class: 'card wide' }, frChart || h('p', { class: 'muted' }, 'Chưa có hồ sơ nào được cán bộ trả lời trong khoảng thời gian này.'))),
        h('div', { class: 'card table-card' }, table));
    }

    load();
    return () => { disposed = true; };
  },
};
