// @ts-check
// Small DOM helpers: elements built with `h` (never from HTML strings, so nothing from the
// API is ever interpreted as markup), toasts, badges and scope notes.

import { can } from './session.js';

/**
 * The attributes of `h`: an `on…` function becomes an event listener, `class` the class
 * name, `dataset` the `data-…` attributes; `true` is an empty attribute; null, undefined and
 * false leave the attribute out; anything else is written as a string.
 * @typedef {{
 *   [name: `on${string}`]: ((event: Event) => unknown) | null | undefined,
 *   dataset?: Record<string, string | number | boolean>,
 *   [name: string]: unknown,
 * }} Attrs
 */

/**
 * What `h` and `fill` take as children: nodes, text (numbers and strings), nothing (null,
 * undefined, false), or arrays of these.
 * @typedef {Node | string | number | null | undefined | false | Child[]} Child
 */

/**
 * `h('a', {href: '#/'}, 'text', child)`: an element with attributes and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function')
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key === 'class') el.className = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/**
 * Appends `children` to `el`, nested arrays flattened.
 * @param {Element} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) {
      append(el, child);
      continue;
    }
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces the children of `el`.
 * @template {Element} E
 * @param {E} el
 * @param {...Child} children
 * @returns {E}
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A message shown for six seconds in the corner (a live region).
 * @param {string} message
 * @param {'' | 'bad'} [kind]
 */
export function toast(message, kind = '') {
  const el = h('div', { class: `toast ${kind}` }, message);
  document.getElementById('toasts')?.append(el);
  setTimeout(() => el.remove(), 6000);
}

/**
 * The state of an interaction as a badge: queued, active, closed (settling), finalized, completed.
 * @param {import('./api.js').Interaction} interaction
 */
export function stateBadge(interaction) {
  const label = interaction.state === 'closed' && interaction.finalized ? 'finalized' : interaction.state;
  const text = interaction.state === 'closed' && !interaction.finalized ? 'closed (settling)' : label;
  return h('span', { class: `badge ${label}`, dataset: { state: label } }, text);
}

/**
 * An HTTP status as a badge coloured by its class (2xx, 4xx, 5xx).
 * @param {number} status
 */
export function statusBadge(status) {
  return h('span', { class: `badge s${Math.floor(status / 100)}` }, String(status));
}

/**
 * A note saying what is missing, or null when the token has the scope.
 * @param {string} scope
 * @param {string} what
 */
export function needsScope(scope, what) {
  if (can(scope)) return null;
  return h(
    'p',
    { class: 'scope-note', dataset: { missingScope: scope } },
    `${what} needs the scope ${scope}, which this token does not have.`,
  );
}

/**
 * A labelled form field: the label, the control, the help and a place for its problems.
 * @param {string} label
 * @param {HTMLElement} control
 * @param {Child} [help]
 */
export function field(label, control, help) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const problem = h('div', { class: 'problem', id: `${id}-problem`, 'aria-live': 'polite' });
  const helpEl = help ? h('div', { class: 'help', id: `${id}-help` }, help) : null;
  const describedBy = [helpEl ? `${id}-help` : null, `${id}-problem`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, helpEl, problem);
}

/**
 * Options for a <select>: [[value, label], …].
 * @param {string[][]} pairs
 * @param {string | null} [selected]
 */
export function options(pairs, selected) {
  return pairs.map(([value, label]) =>
    h('option', { value, selected: String(value) === String(selected ?? '') }, label),
  );
}

/**
 * A copy-to-clipboard button for the text of `source()`.
 * @param {string} label
 * @param {() => string} source
 */
export function copyButton(label, source) {
  return h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(source());
          toast('Copied to the clipboard.');
        } catch {
          toast('The clipboard is not available: select the text and copy it.', 'bad');
        }
      },
    },
    label,
  );
}

/**
 * A panel with a heading.
 * @param {string} title
 * @param {...Child} children
 */
export function panel(title, ...children) {
  const id = `p-${Math.random().toString(36).slice(2, 9)}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/**
 * The time left until `finalizesAt`, counted down on screen from the browser's clock (the
 * server sends the deadline once; nothing asks it again). When it reaches zero the text
 * says the server is finalizing, until the interaction.finalized event replaces it.
 * @param {string} finalizesAt
 */
export function countdown(finalizesAt) {
  const el = h('span', { class: 'countdown', role: 'timer', 'aria-live': 'off', dataset: { countdown: finalizesAt } });
  const deadline = Date.parse(finalizesAt);
  const tick = () => {
    if (!el.isConnected && el.dataset.started) {
      clearInterval(timer);
      return;
    }
    el.dataset.started = '1';
    const left = deadline - Date.now();
    el.textContent = left > 0 ? `finalizes in ${(left / 1000).toFixed(1)} s` : 'finalizing…';
  };
  const timer = setInterval(tick, 100);
  tick();
  return el;
}
