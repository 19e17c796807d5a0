// charts.js — small inline-SVG charts (no library).  Labels are text nodes.
import { h, s, fmtInt } from './dom.js';

export const PALETTE = ['#1f5fa8', '#2e8b57', '#d98a00', '#b3261e', '#7b4fa0', '#138a8a', '#6b6f76', '#c2185b'];

// A round axis top with 4 whole-number ticks: 4, 8, 12, 20, 40, 60, 80, 100, 200, ...
function niceMax(v) {
  const raw = Math.max(1, v / 4);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * p;
    if (step >= raw && Number.isInteger(step)) return step * 4;
  }
  return 40 * p;
}

function legend(series) {
  return h('ul', { class: 'legend' }, series.map((se) => {
    const sw = h('span', { class: 'swatch' });
    sw.style.background = se.color;
    return h('li', null, sw, se.label);
  }));
}

/**
 * Stacked vertical bars.  categories: ['2026-11-20', ...];
 * series: [{label, color, values:[n per category]}].
 */
export function stackedBars({ categories, series, title, testid, formatCat = (c) => c }) {
  const W = 680; const H = 260; const L = 44; const R = 10; const T = 12; const B = 40;
  const totals = categories.map((_, i) => series.reduce((a, se) => a + (Number(se.values[i]) || 0), 0));
  const max = niceMax(Math.max(1, ...totals));
  const pw = W - L - R; const ph = H - T - B;
  const step = pw / Math.max(1, categories.length);
  const bw = Math.min(46, step * 0.62);
  const y = (v) => T + ph - (v / max) * ph;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title, 'data-testid': testid, preserveAspectRatio: 'xMidYMid meet' });
  svg.append(s('title', null, title));
  for (let k = 0; k <= 4; k++) {
    const v = (max / 4) * k;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: k ? 'grid' : 'axis' }));
    svg.append(s('text', { x: L - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, fmtInt(v)));
  }
  const every = Math.ceil(categories.length / 10);
  categories.forEach((c, i) => {
    const x = L + step * i + (step - bw) / 2;
    let acc = 0;
    for (const se of series) {
      const v = Number(se.values[i]) || 0;
      if (!v) continue;
      const r = s('rect', { x, y: y(acc + v), width: bw, height: Math.max(0.5, y(acc) - y(acc + v)), fill: se.color, rx: 1.5 });
      r.append(s('title', null, `${formatCat(c)} · ${se.label}: ${fmtInt(v)}`));
      svg.append(r);
      acc += v;
    }
    if (totals[i]) svg.append(s('text', { x: x + bw / 2, y: y(totals[i]) - 4, class: 'val', 'text-anchor': 'middle' }, fmtInt(totals[i])));
    if (i % every === 0) svg.append(s('text', { x: x + bw / 2, y: H - B + 16, class: 'tick', 'text-anchor': 'middle' }, formatCat(c)));
  });
  return h('figure', { class: 'chart-fig' }, h('figcaption', null, title), svg, legend(series));
}

/** Horizontal bars: items [{label, value, color?}]. */
export function hBars({ items, title, testid, color = PALETTE[0], unit = '' }) {
  const rowH = 26; const W = 680; const L = 210; const R = 60;
  const H = Math.max(1, items.length) * rowH + 8;
  const max = Math.max(1, ...items.map((i) => Number(i.value) || 0));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title, 'data-testid': testid });
  svg.append(s('title', null, title));
  items.forEach((it, i) => {
    const yy = 4 + i * rowH;
    const w = ((Number(it.value) || 0) / max) * (W - L - R);
    const label = String(it.label);
    svg.append(s('text', { x: L - 8, y: yy + 16, class: 'lbl', 'text-anchor': 'end' }, label.length > 30 ? `${label.slice(0, 29)}…` : label));
    const r = s('rect', { x: L, y: yy + 3, width: Math.max(1, w), height: rowH - 8, fill: it.color || color, rx: 2 });
    r.append(s('title', null, `${label}: ${fmtInt(it.value)}${unit}`));
    svg.append(r);
    svg.append(s('text', { x: L + w + 6, y: yy + 16, class: 'val' }, `${fmtInt(it.value)}${unit}`));
  });
  return h('figure', { class: 'chart-fig' }, h('figcaption', null, title), svg);
}

/**
 * Ranges per category and series (e.g. median to 90th percentile): a dot at
 * lo, a bar up to hi.  values: [{lo, hi, n} | null per category].
 */
export function rangeChart({ categories, series, title, testid, formatCat = (c) => c, format = String, tickFormat = format, steps = null }) {
  const W = 680; const H = 260; const L = 70; const R = 10; const T = 12; const B = 40;
  const all = series.flatMap((se) => se.values.filter(Boolean).map((v) => Number(v.hi) || 0));
  const top = Math.max(1, ...all);
  // steps: candidate tick steps (e.g. round minutes); the first whose 4 ticks cover the data.
  const max = steps ? (steps.find((st) => st * 4 >= top) || Math.ceil(top / 4)) * 4 : niceMax(top);
  const pw = W - L - R; const ph = H - T - B;
  const step = pw / Math.max(1, categories.length);
  const y = (v) => T + ph - (v / max) * ph;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title, 'data-testid': testid });
  svg.append(s('title', null, title));
  for (let k = 0; k <= 4; k++) {
    const v = (max / 4) * k;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: k ? 'grid' : 'axis' }));
    svg.append(s('text', { x: L - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, k ? tickFormat(v) : '0'));
  }
  const every = Math.ceil(categories.length / 10);
  const slot = Math.min(16, (step * 0.7) / Math.max(1, series.length));
  categories.forEach((c, i) => {
    const x0 = L + step * i + step / 2 - (slot * series.length) / 2;
    series.forEach((se, j) => {
      const v = se.values[i];
      if (!v) return;
      const cx = x0 + slot * j + slot / 2;
      const g = s('g', null);
      g.append(s('title', null, `${formatCat(c)} · ${se.label}: trung vị ${format(v.lo)}, 90% trong ${format(v.hi)} (${v.n} hồ sơ)`));
      g.append(s('rect', { x: cx - slot * 0.3, y: y(v.hi), width: slot * 0.6, height: Math.max(1, y(v.lo) - y(v.hi)), fill: se.color, opacity: 0.35, rx: 1.5 }));
      g.append(s('circle', { cx, cy: y(v.lo), r: Math.max(2.5, slot * 0.28), fill: se.color }));
      svg.append(g);
    });
    if (i % every === 0) svg.append(s('text', { x: L + step * i + step / 2, y: H - B + 16, class: 'tick', 'text-anchor': 'middle' }, formatCat(c)));
  });
  return h('figure', { class: 'chart-fig' }, h('figcaption', null, title), svg,
    h('ul', { class: 'legend' }, series.map((se) => {
      const sw = h('span', { class: 'swatch' });
      sw.style.background = se.color;
      return h('li', null, sw, se.label);
    }), h('li', null, '● trung vị, cột tới phân vị 90')));
}
