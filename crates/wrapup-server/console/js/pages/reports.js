// @ts-check
// Reports: wrap-ups per code and per queue over a chosen interval, from the Genesys
// aggregates query (POST /api/v2/analytics/conversations/aggregates/query, docs/genesys.md#analytics):
// tAcw's count is the number of wrap-ups ended (a skip or the system's timeout wrap-up included),
// its sum the after-call work. The chart is plain SVG drawn here.

import { ApiError, all, api, describeError } from '../api.js';
import * as fmt from '../format.js';
import { queueName } from '../routing.js';
import { fill, h, panel } from '../ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const TIMEOUT_CODE = 'ININ-WRAP-UP-TIMEOUT';
const RANGES = [
  ['PT1H', 'Last hour'],
  ['P1D', 'Last 24 hours'],
  ['P7D', 'Last 7 days'],
  ['P30D', 'Last 30 days'],
];

/**
 * One group of the answer: its value, how many wrap-ups, and their after-call work in ms.
 * @typedef {{key: string, label: string, count: number, acwMs: number}} Row
 */

/**
 * An SVG element with attributes.
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {...(SVGElement | string)} children
 */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/**
 * A horizontal bar chart of `rows`' counts.
 * @param {Row[]} rows
 * @param {string} title
 */
function chart(rows, title) {
  const bar = 22;
  const labelWidth = 180;
  const width = 640;
  const max = Math.max(1, ...rows.map((r) => r.count));
  const height = rows.length * (bar + 8) + 8;
  return svg(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title, class: 'report-chart' },
    svg('title', {}, title),
    ...rows.map((r, i) => {
      const y = 8 + i * (bar + 8);
      const w = Math.max(2, ((width - labelWidth - 60) * r.count) / max);
      return svg(
        'g',
        { 'data-bar': r.key },
        svg('text', { x: 0, y: y + bar * 0.7, 'font-size': 13, fill: 'currentColor' }, r.label.slice(0, 24)),
        svg('rect', { x: labelWidth, y, width: w, height: bar, rx: 3, fill: '#3b82f6' }),
        svg(
          'text',
          { x: labelWidth + w + 6, y: y + bar * 0.7, 'font-size': 13, fill: 'currentColor' },
          String(r.count),
        ),
      );
    }),
  );
}

/**
 * The rows of one aggregate answer grouped by `dimension`.
 * @param {any} answer
 * @param {string} dimension
 * @param {(key: string) => Promise<string>} name
 * @returns {Promise<Row[]>}
 */
async function rowsOf(answer, dimension, name) {
  /** @type {Row[]} */
  const rows = [];
  for (const result of answer.results || []) {
    let count = 0;
    let acwMs = 0;
    for (const bucket of result.data || []) {
      for (const m of bucket.metrics || []) {
        if (m.metric === 'tAcw') {
          count += m.stats.count;
          acwMs += m.stats.sum;
        }
      }
    }
    if (!count) continue;
    const key = result.group?.[dimension] || '';
    rows.push({
      key: key || 'none',
      label: key ? await name(key) : `(no ${dimension === 'queueId' ? 'queue' : 'code'})`,
      count,
      acwMs,
    });
  }
  return rows.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

/**
 * A table and a chart of `rows`.
 * @param {string} id
 * @param {string} what
 * @param {Row[]} rows
 */
function report(id, what, rows) {
  if (!rows.length) return h('p', { class: 'muted', id }, 'No wrap-ups in this interval.');
  return h(
    'div',
    { id },
    chart(rows, `Wrap-ups per ${what}`),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, what), h('th', {}, 'Wrap-ups'), h('th', {}, 'After-call work'), h('th', {}, 'Average')),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { 'data-key': r.key },
            h('td', {}, r.label),
            h('td', { 'data-column': 'count' }, String(r.count)),
            h('td', {}, fmt.duration(r.acwMs)),
            h('td', {}, fmt.duration(Math.round(r.acwMs / r.count))),
          ),
        ),
      ),
    ),
  );
}

/** @type {import('../app.js').PageRender} */
export async function render(main, { query }) {
  const range = RANGES.some(([v]) => v === query.range) ? query.range : 'P1D';
  const select = h(
    'select',
    { id: 'report-range', 'aria-label': 'Interval' },
    RANGES.map(([v, label]) => h('option', { value: v, selected: v === range }, label)),
  );
  const out = h('div', { id: 'report' }, h('p', { class: 'muted' }, 'Loading…'));
  const form = h(
    'form',
    {
      class: 'toolbar',
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        location.hash = `#/reports?range=${select.value}`;
      },
    },
    h('label', {}, 'Interval ', select),
    h('button', { type: 'submit' }, 'Show'),
  );
  fill(
    main,
    h('h1', {}, 'Reports'),
    h(
      'p',
      { class: 'muted' },
      'Wrap-ups per code and per queue, from the Genesys aggregates query (tAcw by wrapUpCode and by queueId) over the conversations that started in the interval.',
    ),
    form,
    out,
  );
  /** @type {Map<string, string>} */
  const codeNames = new Map();
  await all('/api/v2/routing/wrapupcodes?includeArchived=true')
    .then((codes) => {
      for (const c of codes) codeNames.set(c.id, c.name);
    })
    .catch(() => {});
  const now = new Date();
  const interval = `${range}/${now.toISOString()}`;
  /** @param {string} groupBy */
  const aggregate = (groupBy) =>
    api('/api/v2/analytics/conversations/aggregates/query', {
      method: 'POST',
      body: { interval, groupBy: [groupBy], metrics: ['tAcw'] },
    });
  try {
    const [byCode, byQueue] = await Promise.all([aggregate('wrapUpCode'), aggregate('queueId')]);
    const codes = await rowsOf(byCode, 'wrapUpCode', async (id) =>
      id === TIMEOUT_CODE ? 'Timed out (system)' : codeNames.get(id) || fmt.shortId(id),
    );
    const queues = await rowsOf(byQueue, 'queueId', async (id) => (await queueName(id)) || fmt.shortId(id));
    fill(
      out,
      h(
        'p',
        { class: 'muted', id: 'report-interval' },
        `${fmt.dateTime(new Date(now.getTime() - rangeMs(range)).toISOString())} – ${fmt.dateTime(now.toISOString())}`,
      ),
      panel('Per code', report('report-codes', 'Code', codes)),
      panel('Per queue', report('report-queues', 'Queue', queues)),
    );
  } catch (e) {
    fill(out, h('p', { class: 'bad', role: 'alert' }, e instanceof ApiError ? describeError(e) : String(e)));
  }
}

/** @param {string} range */
function rangeMs(range) {
  const hour = 3_600_000;
  return { PT1H: hour, P1D: 24 * hour, P7D: 168 * hour, P30D: 720 * hour }[range] || 24 * hour;
}
