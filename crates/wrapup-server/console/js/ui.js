// Small DOM helpers: elements built with `h` (never from HTML strings, so nothing from the
// API is ever interpreted as markup), toasts, badges and scope notes.

import { can } from './session.js';

/** `h('a', {href: '#/'}, 'text', child)`: an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function toast(message, kind = '') {
  const el = h('div', { class: `toast ${kind}` }, message);
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), 6000);
}

/** The state of an interaction as a badge: queued, active, closed (settling), finalized, completed. */
export function stateBadge(interaction) {
  const label = interaction.state === 'closed' && interaction.finalized ? 'finalized' : interaction.state;
  const text = interaction.state === 'closed' && !interaction.finalized ? 'closed (settling)' : label;
  return h('span', { class: `badge ${label}`, dataset: { state: label } }, text);
}

export function statusBadge(status) {
  return h('span', { class: `badge s${Math.floor(status / 100)}` }, String(status));
}

/** A note saying what is missing, or null when the token has the scope. */
export function needsScope(scope, what) {
  if (can(scope)) return null;
  return h(
    'p',
    { class: 'scope-note', dataset: { missingScope: scope } },
    `${what} needs the scope ${scope}, which this token does not have.`,
  );
}

/** A labelled form field. */
export function field(label, control, help) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const problem = h('div', { class: 'problem', id: `${id}-problem`, 'aria-live': 'polite' });
  const helpEl = help ? h('div', { class: 'help', id: `${id}-help` }, help) : null;
  const describedBy = [helpEl ? `${id}-help` : null, `${id}-problem`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, helpEl, problem);
}

/** Options for a <select>: [[value, label], …]. */
export function options(pairs, selected) {
  return pairs.map(([value, label]) =>
    h('option', { value, selected: String(value) === String(selected ?? '') }, label),
  );
}

/** A copy-to-clipboard button for the text of `source()`. */
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

/** A panel with a heading. */
export function panel(title, ...children) {
  const id = `p-${Math.random().toString(36).slice(2, 9)}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/**
 * The time left until `finalizesAt`, counted down on screen from the browser's clock (the
 * server sends the deadline once; nothing asks it again). When it reaches zero the text
 * says the server is finalizing, until the interaction.finalized event replaces it.
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
