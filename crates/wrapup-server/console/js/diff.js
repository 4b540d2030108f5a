// @ts-check
// A line diff of two texts (longest common subsequence), shown side by side: the body as
// sent on the left, the body that would have been accepted on the right.

import { h } from './ui.js';

/** @typedef {{op: 'same' | 'del' | 'add', text: string}} Op one line of a diff */

/**
 * The diff of two arrays of lines.
 * @param {string[]} a
 * @param {string[]} b
 * @returns {Op[]}
 */
export function diffLines(a, b) {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  /** @type {Op[]} */
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: 'same', text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: 'del', text: a[i++] });
    } else {
      out.push({ op: 'add', text: b[j++] });
    }
  }
  while (i < n) out.push({ op: 'del', text: a[i++] });
  while (j < m) out.push({ op: 'add', text: b[j++] });
  return out;
}

/**
 * Rows of [left, right] cells: unchanged lines face each other, removed and added lines pair up.
 * @param {Op[]} ops
 * @returns {[Op | null, Op | null][]}
 */
function rows(ops) {
  /** @type {[Op | null, Op | null][]} */
  const out = [];
  /** @type {Op[]} */
  let dels = [];
  /** @type {Op[]} */
  let adds = [];
  const flush = () => {
    for (let k = 0; k < Math.max(dels.length, adds.length); k++) out.push([dels[k] || null, adds[k] || null]);
    dels = [];
    adds = [];
  };
  for (const op of ops) {
    if (op.op === 'del') dels.push(op);
    else if (op.op === 'add') adds.push(op);
    else {
      flush();
      out.push([op, op]);
    }
  }
  flush();
  return out;
}

/**
 * The side-by-side view of `before` and `after`, titled (a grid: each row's cells align).
 * @param {string} beforeTitle
 * @param {string} before
 * @param {string} afterTitle
 * @param {string} after
 */
export function diffView(beforeTitle, before, afterTitle, after) {
  const ops = diffLines(before.split('\n'), after.split('\n'));
  const cells = [h('div', { class: 'head left' }, beforeTitle), h('div', { class: 'head' }, afterTitle)];
  for (const [l, r] of rows(ops)) {
    cells.push(h('div', { class: `line left ${l ? (l.op === 'same' ? 'same' : 'del') : ''}` }, l ? l.text : ''));
    cells.push(h('div', { class: `line ${r ? (r.op === 'same' ? 'same' : 'add') : ''}` }, r ? r.text : ''));
  }
  const removed = ops.filter((o) => o.op === 'del').length;
  const added = ops.filter((o) => o.op === 'add').length;
  return h(
    'figure',
    { class: 'diff-figure' },
    h(
      'figcaption',
      { class: 'muted small' },
      `${beforeTitle} (left) and ${afterTitle} (right): ${removed} ${removed === 1 ? 'line' : 'lines'} removed, ${added} ${added === 1 ? 'line' : 'lines'} added.`,
    ),
    h('div', { class: 'diff', role: 'group', 'aria-label': 'Diff', dataset: { removed, added } }, cells),
  );
}
