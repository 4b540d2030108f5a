// @ts-check
// Queues: each queue of the granted divisions with its division, after-call-work prompt and
// timeout, and its wrap-up codes; with wrapup-code:manage, create a queue, change its
// settings, add and remove codes, delete it. A refusal is shown with the API's code and
// message (docs/api.md, "Queues and agents"). Below them, the agents (interaction:view), and
// a form that creates one (admin).

import { ApiError, all, api, describeError } from '../api.js';
import * as fmt from '../format.js';
import { PROMPTS, promptWords, timed } from '../routing.js';
import { can } from '../session.js';
import { field, fill, h, needsScope, options, panel, toast } from '../ui.js';

/**
 * @typedef {import('../api.js').Queue} Queue
 * @typedef {import('../api.js').WrapUpCode} WrapUpCode
 * @typedef {import('../api.js').Division} Division
 */

/**
 * @param {HTMLElement} main
 */
export async function render(main) {
  const manage = can('wrapup-code:manage');
  /** @type {Division[]} */
  const divisions = await all('/api/v2/authorization/divisions').catch(() => []);
  const divisionNames = Object.fromEntries(divisions.map((d) => [d.id, d.name]));
  const box = h('div');
  const refusal = h('div', { id: 'queues-error', 'aria-live': 'polite' });

  /**
   * Shows a refusal with the API's code, message and problems, above the table (a live
   * region), until the next change succeeds.
   * @param {unknown} e
   */
  const refused = (e) => {
    // The problems, when they say more than the message above them.
    const all = (e instanceof ApiError && e.body?.details) || [];
    const details = all.length === 1 && e instanceof ApiError && all[0].message === e.body?.message ? [] : all;
    fill(
      refusal,
      h(
        'div',
        { class: 'notice bad', dataset: { status: String(e instanceof ApiError ? e.status : '') } },
        h('strong', {}, describeError(e)),
        details.length
          ? h(
              'ul',
              {},
              details.map((p) =>
                h('li', {}, h('code', {}, p.errorCode), p.fieldName ? ` (${p.fieldName})` : '', ' ', p.message),
              ),
            )
          : null,
      ),
    );
  };

  /**
   * Runs a change; on success clears the refusal, says `done` and reads the queues again.
   * @param {() => Promise<unknown>} change
   * @param {string} done
   */
  const act = async (change, done) => {
    try {
      await change();
    } catch (e) {
      refused(e);
      return false;
    }
    fill(refusal);
    toast(done);
    await load();
    return true;
  };

  async function load() {
    /** @type {Queue[]} */
    let queues;
    /** @type {WrapUpCode[]} */
    let codes;
    try {
      [queues, codes] = await Promise.all([all('/api/v2/routing/queues'), all('/api/v2/routing/wrapupcodes')]);
    } catch (e) {
      fill(box, h('p', { class: 'notice bad' }, describeError(e)));
      return;
    }
    /** @type {WrapUpCode[][]} */
    const queueCodes = await Promise.all(
      queues.map((q) => all(`/api/v2/routing/queues/${q.id}/wrapupcodes`).catch(() => [])),
    );
    if (!queues.length) {
      fill(box, h('p', { class: 'muted', id: 'queues' }, 'No queue yet.'));
      return;
    }
    fill(
      box,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'queues' },
          h('caption', {}, 'Queues of the divisions this token is granted, by name'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Name', 'Division', 'Prompt', 'Timeout', 'Codes', manage ? 'Actions' : null]
                .filter(Boolean)
                .map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            queues.map((q, n) => queueRow(q, queueCodes[n], codes)),
          ),
        ),
      ),
    );
  }

  /**
   * One queue's row: its settings, its codes (each removable) and the code to add.
   * @param {Queue} q
   * @param {WrapUpCode[]} mine the queue's codes
   * @param {WrapUpCode[]} codes every code visible
   */
  function queueRow(q, mine, codes) {
    const prompt = q.acwSettings?.wrapupPrompt ?? 'MANDATORY';
    const division = q.division.name || divisionNames[q.division.id] || fmt.shortId(q.division.id);
    const addable = codes.filter(
      (c) => c.divisionId === q.division.id && !c.archived && !mine.some((m) => m.id === c.id),
    );
    const pick = h(
      'select',
      { 'aria-label': `A code to add to ${q.name}`, class: 'add-code' },
      options([['', 'Add a code…'], ...addable.map((c) => [c.id, c.name])]),
    );
    const codesCell = h(
      'td',
      {},
      mine.length
        ? h(
            'ul',
            { class: 'chips' },
            mine.map((c) =>
              h(
                'li',
                { dataset: { code: c.name } },
                c.name,
                manage
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        'aria-label': `Remove ${c.name} from ${q.name}`,
                        title: `Remove ${c.name} from the queue (the code itself is kept)`,
                        onclick: () =>
                          act(
                            () => api(`/api/v2/routing/queues/${q.id}/wrapupcodes/${c.id}`, { method: 'DELETE' }),
                            `${c.name} removed from ${q.name}.`,
                          ),
                      },
                      '×',
                    )
                  : null,
              ),
            ),
          )
        : h('span', { class: 'muted' }, 'none'),
      manage && addable.length
        ? h(
            'form',
            {
              class: 'row',
              onsubmit: (/** @type {Event} */ e) => {
                e.preventDefault();
                if (!pick.value) return;
                const name = pick.selectedOptions[0]?.textContent ?? pick.value;
                act(
                  () =>
                    api(`/api/v2/routing/queues/${q.id}/wrapupcodes`, { method: 'POST', body: [{ id: pick.value }] }),
                  `${name} added to ${q.name}.`,
                );
              },
            },
            pick,
            h('button', { type: 'submit', class: 'secondary', 'aria-label': `Add the code to ${q.name}` }, 'Add'),
          )
        : null,
    );
    const row = h(
      'tr',
      { dataset: { queue: q.name, id: q.id } },
      h('td', {}, q.name, q.description ? h('div', { class: 'small muted' }, q.description) : null),
      h('td', {}, division),
      h('td', { dataset: { prompt } }, promptWords(prompt)),
      h('td', {}, q.acwSettings?.timeoutMs ? fmt.duration(q.acwSettings.timeoutMs) : '—'),
      codesCell,
    );
    if (!manage) return row;
    const edit = () => {
      const form = settingsForm(q, 'Save', async (body) =>
        act(() => api(`/api/v2/routing/queues/${q.id}`, { method: 'PUT', body }), `${body.name} saved.`),
      );
      form.append(h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Cancel'));
      fill(row, h('td', { colspan: 6 }, form));
      form.querySelector('input')?.focus();
    };
    const remove = () => {
      if (!window.confirm(`Delete the queue "${q.name}"? Its interactions keep its settings.`)) return;
      act(() => api(`/api/v2/routing/queues/${q.id}`, { method: 'DELETE' }), `${q.name} deleted.`);
    };
    row.append(
      h(
        'td',
        {},
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', onclick: edit, 'aria-label': `Edit ${q.name}` }, 'Edit'),
          h('button', { type: 'button', class: 'danger', onclick: remove, 'aria-label': `Delete ${q.name}` }, 'Delete'),
        ),
      ),
    );
    return row;
  }

  /**
   * The form of a queue's name, prompt and timeout (and its division, for a new one).
   * @param {Queue | null} q the queue to change, or null for a new one
   * @param {string} label the submit button's
   * @param {(body: {name: string, division: {id: string}, description?: string, acwSettings: {wrapupPrompt: string, timeoutMs?: number}}) => Promise<boolean>} submit
   */
  function settingsForm(q, label, submit) {
    const name = h('input', { name: 'name', value: q?.name ?? '', required: true, maxlength: 100 });
    const division = h(
      'select',
      { name: 'divisionId', disabled: q !== null },
      options(
        divisions.map((d) => [d.id, d.name]),
        q?.division.id,
      ),
    );
    const prompt = h('select', { name: 'wrapupPrompt' }, options(PROMPTS, q?.acwSettings?.wrapupPrompt ?? 'MANDATORY'));
    const timeout = h('input', {
      name: 'timeoutMs',
      inputmode: 'numeric',
      size: 10,
      value: q?.acwSettings?.timeoutMs ? String(q.acwSettings.timeoutMs) : '',
    });
    const timeoutField = field(
      'Timeout, in milliseconds',
      timeout,
      'For the time-boxed prompts only: 1000 to 86 400 000 (for example 30000 for 30 s).',
    );
    const follow = () => {
      timeoutField.hidden = !timed(prompt.value);
    };
    prompt.addEventListener('change', follow);
    follow();
    const form = h(
      'form',
      {
        class: 'filters queue-settings',
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          /** @type {{wrapupPrompt: string, timeoutMs?: number}} */
          const acwSettings = { wrapupPrompt: prompt.value };
          const t = timeout.value.trim();
          if (timed(prompt.value) && t !== '') acwSettings.timeoutMs = Number(t);
          const ok = await submit({
            name: name.value,
            division: { id: division.value },
            ...(q?.description ? { description: q.description } : {}),
            acwSettings,
          });
          if (ok && !q) {
            form.reset();
            follow();
          }
        },
      },
      field('Name', name),
      field('Division', division),
      field('Prompt', prompt),
      timeoutField,
      h('button', { type: 'submit' }, label),
    );
    return form;
  }

  const agentsBox = h('div');
  async function loadAgents() {
    if (!can('interaction:view')) {
      fill(agentsBox, needsScope('interaction:view', 'Listing the agents'));
      return;
    }
    /** @type {import('../api.js').User[]} */
    let agents;
    try {
      agents = await all('/api/v2/users');
    } catch (e) {
      fill(agentsBox, h('p', { class: 'notice bad' }, describeError(e)));
      return;
    }
    fill(
      agentsBox,
      h(
        'table',
        { id: 'agents' },
        h('caption', {}, 'Agents of the divisions this token is granted, by name'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Name', 'Email', 'Division', 'Id'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          agents.map((a) =>
            h(
              'tr',
              { dataset: { agent: a.name } },
              h('td', {}, a.name),
              h('td', {}, a.email ?? '—'),
              h('td', {}, a.division ? a.division.name || divisionNames[a.division.id] || a.division.id : '—'),
              h('td', { class: 'mono small' }, a.id),
            ),
          ),
        ),
      ),
    );
  }

  /** The form that creates an agent (admin). */
  function agentForm() {
    const name = h('input', { name: 'name', required: true, maxlength: 100 });
    const email = h('input', { name: 'email', type: 'email', required: true });
    const division = h('select', { name: 'divisionId' }, options(divisions.map((d) => [d.id, d.name])));
    return h(
      'form',
      {
        id: 'create-agent',
        class: 'filters',
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          try {
            const body = { name: name.value, email: email.value, divisionId: division.value };
            const agent = await api('/api/v2/users', { method: 'POST', body });
            fill(refusal);
            toast(`Agent ${agent.name} created.`);
            name.value = '';
            email.value = '';
            await loadAgents();
          } catch (err) {
            refused(err);
          }
        },
      },
      field('Name', name),
      field('Email', email),
      field('Division', division),
      h('button', { type: 'submit' }, 'Create agent'),
    );
  }

  fill(
    main,
    h('h1', {}, 'Queues'),
    h(
      'p',
      { class: 'muted' },
      "An interaction of a queue may only be wrapped up with the queue's codes; the queue's prompt says whether a wrap-up is required, may be skipped, or is applied by the system at a timeout (ININ-WRAP-UP-TIMEOUT).",
    ),
    refusal,
    panel(
      'Queues',
      box,
      manage
        ? h(
            'div',
            { id: 'create-queue' },
            h('h3', {}, 'Create a queue'),
            settingsForm(null, 'Create queue', (body) =>
              act(() => api('/api/v2/routing/queues', { method: 'POST', body }), `Queue ${body.name} created.`),
            ),
          )
        : needsScope('wrapup-code:manage', 'Creating and changing queues'),
    ),
    panel(
      'Agents',
      agentsBox,
      can('admin')
        ? h('div', {}, h('h3', {}, 'Create an agent'), agentForm())
        : needsScope('admin', 'Creating an agent'),
    ),
  );
  await Promise.all([load(), loadAgents()]);
}
