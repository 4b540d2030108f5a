// @ts-check
// Queues, agents and after-call work (docs/api.md, "Queues and agents"): prompts in words,
// the countdown to a time-boxed prompt's timeout, and the names of queues and agents.

import { api } from './api.js';
import { h } from './ui.js';

/**
 * @typedef {import('./api.js').Routing} Routing
 * @typedef {import('./api.js').RoutingPrompt} RoutingPrompt
 * @typedef {import('./api.js').WrapupPrompt} WrapupPrompt
 */

/** The queue's `acwSettings.wrapupPrompt` values, in the order a form offers them, with their words. */
export const PROMPTS = /** @type {[WrapupPrompt, string][]} */ ([
  ['MANDATORY', 'Mandatory: a wrap-up is required'],
  ['OPTIONAL', 'Optional: the agent may skip it'],
  ['AGENT_REQUESTED', 'Agent requested: the agent may skip it'],
  ['MANDATORY_TIMEOUT', 'Mandatory, time-boxed: the system wraps up at the timeout'],
  ['MANDATORY_FORCED_TIMEOUT', 'Mandatory, forced timeout: after-call work lasts until the timeout'],
]);

/** @type {Record<RoutingPrompt, WrapupPrompt>} an interaction's `routing.wrapupPrompt` as the queue writes it */
const QUEUE_PROMPT = {
  mandatory: 'MANDATORY',
  optional: 'OPTIONAL',
  agentRequested: 'AGENT_REQUESTED',
  timeout: 'MANDATORY_TIMEOUT',
  forcedTimeout: 'MANDATORY_FORCED_TIMEOUT',
};

/**
 * A prompt in words, from either spelling (the queue's `MANDATORY_TIMEOUT` or the
 * interaction's `timeout`).
 * @param {string | undefined} prompt
 */
export function promptWords(prompt) {
  const queuePrompt = /** @type {Record<string, string>} */ (QUEUE_PROMPT)[prompt ?? 'mandatory'] ?? prompt;
  return PROMPTS.find(([value]) => value === queuePrompt)?.[1] ?? String(prompt);
}

/**
 * Whether the prompt is time-boxed (needs `timeoutMs`).
 * @param {string} prompt the queue's spelling
 */
export function timed(prompt) {
  return prompt === 'MANDATORY_TIMEOUT' || prompt === 'MANDATORY_FORCED_TIMEOUT';
}

/**
 * Whether the agent may skip the wrap-up now: an optional or agent-requested prompt, the
 * interaction closed and finalized, after-call work not ended.
 * @param {import('./api.js').Interaction} i
 */
export function canSkip(i) {
  const r = i.routing;
  if (!r || !(r.wrapupPrompt === 'optional' || r.wrapupPrompt === 'agentRequested')) return false;
  return i.state === 'closed' && i.finalized && !r.afterCallWorkEndedAt && !r.wrapupSkipped;
}

/**
 * The time left until the system's timeout (`routing.wrapupDueAt`), counted down on screen
 * from the browser's clock, as `countdown` does for finalization. It stops when after-call
 * work ends: the page draws it again from the event that says so (interaction.wrapup,
 * interaction.wrapup.skipped, interaction.acw.ended).
 * @param {string} dueAt
 */
export function timeoutCountdown(dueAt) {
  const el = h('span', { class: 'countdown', role: 'timer', 'aria-live': 'off', dataset: { acwCountdown: dueAt } });
  const deadline = Date.parse(dueAt);
  const tick = () => {
    if (!el.isConnected && el.dataset.started) {
      clearInterval(timer);
      return;
    }
    el.dataset.started = '1';
    const left = deadline - Date.now();
    el.textContent = left > 0 ? `timeout in ${clock(left)}` : 'timing out…';
  };
  const timer = setInterval(tick, 100);
  tick();
  return el;
}

/**
 * Milliseconds as m:ss.s (or s.s under a minute).
 * @param {number} ms
 */
function clock(ms) {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const min = Math.floor(s / 60);
  return `${min}:${(s - min * 60).toFixed(1).padStart(4, '0')}`;
}

/**
 * The name of the resource at `path` (a queue or an agent), or null when it cannot be read
 * (deleted, not visible).
 * @param {string} path
 * @returns {Promise<string | null>}
 */
function nameAt(path) {
  return api(path)
    .then((/** @type {{name: string}} */ r) => r.name)
    .catch(() => null);
}

/** @param {string} id */
export const queueName = (id) => nameAt(`/api/v2/routing/queues/${encodeURIComponent(id)}`);
/** @param {string} id */
export const agentName = (id) => nameAt(`/api/v2/users/${encodeURIComponent(id)}`);
