// @ts-check
// One interaction: its state and the countdown to finalization, the timeline (created,
// state changes, finalized, each wrap-up) kept current by the event stream, the current
// wrap-up and its history, the lifecycle buttons (interaction:manage) and the form that
// applies a wrap-up (interaction:write), checked as you type by the server's own rules
// (the dry run, POST …/wrap-up/validate).

import { ApiError, api, describeError } from '../api.js';
import { interactionEvents } from '../events.js';
import * as fmt from '../format.js';
import { can } from '../session.js';
import { countdown, field, fill, h, needsScope, options, panel, stateBadge, toast } from '../ui.js';

const VALIDATE_DELAY_MS = 250;

/**
 * @typedef {import('../api.js').Interaction} Interaction
 * @typedef {import('../api.js').WrapUp} WrapUp
 * @typedef {import('../api.js').ErrorDetail} ErrorDetail
 */

/**
 * The interaction's timeline: what happened, oldest first, and the finalization to come.
 * @param {Interaction} i
 * @param {WrapUp[]} history
 */
function timelineOf(i, history) {
  /** @type {{at: string, what: string, pending?: boolean}[]} */
  const entries = /** @type {{at: string, what: string}[]} */ (
    [
      { at: i.createdAt, what: `Created (${i.channel}), queued` },
      i.activeAt && { at: i.activeAt, what: 'Activated' },
      i.closedAt && { at: i.closedAt, what: i.activeAt ? 'Closed' : 'Closed without being answered (abandoned)' },
      i.finalizedAt && { at: i.finalizedAt, what: 'Finalized: a wrap-up can be applied' },
      ...history.map((w, n) => ({
        at: w.appliedAt,
        what: `${n === 0 ? 'Wrap-up applied' : 'Wrap-up replaced'}: ${w.codeName}, ${fmt.duration(w.durationMs)}${w.notes ? `, “${w.notes}”` : ''}`,
      })),
    ].filter(Boolean)
  );
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (i.state === 'closed' && !i.finalized && i.finalizesAt) {
    entries.push({ at: i.finalizesAt, what: 'Finalization due', pending: true });
  }
  return h(
    'ol',
    { class: 'timeline', id: 'timeline' },
    entries.map((e) =>
      h(
        'li',
        { dataset: e.pending ? { pending: '1' } : {} },
        h('div', {}, e.what),
        h('div', { class: 'when' }, e.pending ? `due ${fmt.dateTime(e.at)}` : fmt.dateTime(e.at)),
      ),
    ),
  );
}

/** @param {WrapUp[]} history */
function historyTable(history) {
  if (!history.length) return h('p', { class: 'muted', id: 'history' }, 'No wrap-up has been applied yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'history' },
      h('caption', {}, 'Every wrap-up applied, oldest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Applied', 'Code', 'Duration', 'Notes', 'By client'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        history.map((w) =>
          h(
            'tr',
            {},
            h('td', {}, fmt.dateTime(w.appliedAt)),
            h('td', {}, w.codeName),
            h('td', {}, fmt.duration(w.durationMs)),
            h('td', {}, w.notes || '—'),
            h('td', { class: 'mono' }, fmt.shortId(w.appliedBy)),
          ),
        ),
      ),
    ),
  );
}

/**
 * @param {HTMLElement} main
 * @param {import('../app.js').PageContext} context
 */
export async function render(main, { params }) {
  const id = params.id;
  /** @type {Interaction} */
  let interaction;
  try {
    interaction = await api(`/api/v2/interactions/${encodeURIComponent(id)}`);
  } catch (e) {
    fill(
      main,
      h('h1', {}, 'Interaction'),
      h('p', { class: 'notice bad' }, describeError(e)),
      h('p', {}, h('a', { href: '#/interactions' }, 'Back to the list')),
    );
    return undefined;
  }
  /** @type {WrapUp[]} */
  let history = await api(`/api/v2/interactions/${id}/wrap-up/history`).catch(() => []);
  /** @type {import('../api.js').Division | undefined | null} */
  const division = await api('/api/v2/authorization/divisions?pageSize=500')
    .then((p) => p.entities.find((/** @type {import('../api.js').Division} */ d) => d.id === interaction.divisionId))
    .catch(() => null);

  const header = h('div');
  const actions = h('div', { class: 'row' });
  const timeline = h('div');
  const current = h('div');
  const historyBox = h('div');
  const form = can('interaction:write')
    ? await applyForm(interaction, () => interaction)
    : { el: needsScope('interaction:write', 'Applying a wrap-up'), revalidate: () => {} };

  const draw = () => {
    const i = interaction;
    fill(
      header,
      h(
        'div',
        { class: 'spread' },
        h('h1', {}, 'Interaction ', h('span', { class: 'mono' }, i.id)),
        h(
          'div',
          { class: 'row', id: 'state' },
          stateBadge(i),
          i.state === 'closed' && !i.finalized && i.finalizesAt ? countdown(i.finalizesAt) : null,
        ),
      ),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, 'Division'),
        h('dd', {}, division ? `${division.name} (${i.divisionId})` : i.divisionId),
        h('dt', {}, 'Channel'),
        h('dd', {}, i.channel),
        h('dt', {}, 'Version'),
        h('dd', {}, String(i.version)),
      ),
    );
    drawActions();
    fill(timeline, timelineOf(i, history));
    fill(
      current,
      i.wrapUp
        ? h(
            'dl',
            { class: 'kv', id: 'current-wrapup' },
            h('dt', {}, 'Code'),
            h('dd', {}, `${i.wrapUp.codeName} (${i.wrapUp.codeId})`),
            h('dt', {}, 'Duration'),
            h('dd', {}, `${i.wrapUp.durationMs} ms (${fmt.duration(i.wrapUp.durationMs)})`),
            h('dt', {}, 'Notes'),
            h('dd', {}, i.wrapUp.notes || '—'),
            h('dt', {}, 'Applied'),
            h('dd', {}, `${fmt.dateTime(i.wrapUp.appliedAt)} by ${i.wrapUp.appliedBy}`),
          )
        : h('p', { class: 'muted', id: 'current-wrapup' }, 'None yet.'),
    );
    fill(historyBox, historyTable(history));
  };

  function drawActions() {
    const note = needsScope('interaction:manage', 'Changing the state');
    if (note) {
      fill(actions, note);
      return;
    }
    /** @param {'active' | 'closed'} state */
    const move = (state) => async () => {
      try {
        interaction = await api(`/api/v2/interactions/${id}/state`, { method: 'POST', body: { state } });
        draw();
        toast(`Interaction ${state === 'active' ? 'activated' : 'closed'}.`);
      } catch (e) {
        toast(describeError(e), 'bad');
      }
    };
    const s = interaction.state;
    fill(
      actions,
      h('button', { type: 'button', disabled: s !== 'queued', onclick: move('active') }, 'Activate'),
      h(
        'button',
        { type: 'button', disabled: !(s === 'queued' || s === 'active'), onclick: move('closed') },
        s === 'queued' ? 'Close (abandon)' : 'Close',
      ),
      h('span', { class: 'muted small' }, 'queued → active → closed, or queued → closed (abandoned)'),
    );
  }

  draw();
  fill(
    main,
    header,
    panel('Lifecycle', actions),
    h(
      'div',
      { class: 'grid2' },
      panel('Timeline', timeline),
      h('div', {}, panel('Current wrap-up', current), panel('Apply a wrap-up', form.el)),
    ),
    panel('Wrap-up history', historyBox),
  );

  const stop = interactionEvents.listen(async (e) => {
    if (e.kind === 'reset') {
      interaction = await api(`/api/v2/interactions/${id}`).catch(() => interaction);
    } else if (e.interaction.id === id) {
      if (e.interaction.version < interaction.version) return;
      interaction = e.interaction;
    } else {
      return;
    }
    if (e.kind === 'interaction.wrapup' || e.kind === 'reset') {
      history = await api(`/api/v2/interactions/${id}/wrap-up/history`).catch(() => history);
    }
    draw();
    form.revalidate();
  });
  return stop;
}

/**
 * The apply form: the body is checked by the dry run as it is typed.
 * @param {Interaction} interaction
 * @param {() => Interaction} latest
 */
async function applyForm(interaction, latest) {
  const id = interaction.id;
  /** @type {import('../api.js').WrapUpCode[]} */
  let codes = [];
  /** @type {HTMLSelectElement | HTMLInputElement} */
  let codeControl;
  if (can('wrapup-code:view')) {
    codes = await api(`/api/v2/routing/wrapupcodes?divisionId=${interaction.divisionId}&pageSize=500`)
      .then((p) => p.entities)
      .catch(() => []);
    codeControl = h(
      'select',
      { name: 'codeId', id: 'apply-code' },
      options([['', 'Choose a code…'], ...codes.map((c) => [c.id, c.name])]),
    );
  } else {
    codeControl = h('input', {
      name: 'codeId',
      id: 'apply-code',
      size: 38,
      spellcheck: 'false',
      placeholder: 'the code id (listing codes needs wrapup-code:view)',
    });
  }
  const duration = h('input', {
    name: 'durationMs',
    id: 'apply-duration',
    inputmode: 'numeric',
    size: 12,
    placeholder: '120000',
  });
  const durationHelp = h('span');
  const notes = h('textarea', { name: 'notes', id: 'apply-notes', maxlength: 2000 });
  const verdict = h('div', { id: 'apply-verdict', 'aria-live': 'polite' });
  const answer = h('div', { id: 'apply-answer', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Apply wrap-up');
  const fields = {
    codeId: field('Wrap-up code', codeControl, "Codes of the interaction's division."),
    durationMs: field('Duration (ms)', duration, durationHelp),
    notes: field('Notes (optional)', notes, 'At most 1024 characters.'),
  };

  const body = () => {
    const out = {};
    if (codeControl.value.trim()) out.codeId = codeControl.value.trim();
    const d = duration.value.trim();
    if (d !== '') out.durationMs = /^-?\d+(\.\d+)?$/.test(d) ? Number(d) : d;
    if (notes.value !== '') out.notes = notes.value;
    return out;
  };

  /**
   * Shows each field's problems under it; returns the others.
   * @param {ErrorDetail[]} details
   */
  const showProblems = (details) => {
    for (const [name, f] of Object.entries(fields)) {
      const mine = details.filter((p) => p.fieldName === name);
      fill(
        /** @type {Element} */ (f.querySelector('.problem')),
        mine.map((p) => h('div', {}, p.message)),
      );
      f.querySelector('input, select, textarea')?.setAttribute('aria-invalid', mine.length ? 'true' : 'false');
    }
    return details.filter((p) => !Object.keys(fields).includes(p.fieldName ?? ''));
  };

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let asked = 0;
  const validate = async () => {
    const ticket = ++asked;
    const d = Number(duration.value);
    durationHelp.textContent =
      Number.isFinite(d) && d > 0
        ? `= ${fmt.duration(d)}`
        : 'Whole milliseconds, 1 to 86 400 000 (120000 is two minutes).';
    try {
      const result = await api(`/api/v2/interactions/${id}/wrap-up/validate`, { method: 'POST', body: body() });
      if (ticket !== asked) return;
      const others = showProblems(result.details);
      fill(
        verdict,
        result.valid
          ? h(
              'p',
              { class: 'notice ok', dataset: { valid: 'true' } },
              'The server would accept this wrap-up now (204).',
            )
          : h(
              'div',
              { class: 'notice warn', dataset: { valid: 'false' } },
              h('strong', {}, `The server would refuse this now (${result.status}).`),
              others.length
                ? h(
                    'ul',
                    {},
                    others.map((p) =>
                      h(
                        'li',
                        {},
                        h('code', {}, p.errorCode),
                        ' ',
                        p.message,
                        p.hint ? h('div', { class: 'small muted' }, p.hint) : '',
                      ),
                    ),
                  )
                : '',
            ),
      );
    } catch (e) {
      if (ticket === asked) fill(verdict, h('p', { class: 'notice bad' }, `The check failed: ${describeError(e)}`));
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(validate, VALIDATE_DELAY_MS);
  };

  const form = h(
    'form',
    {
      id: 'apply-form',
      'aria-describedby': 'apply-verdict',
      oninput: schedule,
      onchange: schedule,
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        try {
          await api(`/api/v2/interactions/${id}/wrap-up`, { method: 'PUT', body: body() });
          fill(
            answer,
            h(
              'p',
              { class: 'notice ok', dataset: { status: '204' } },
              'The server answered 204 No Content: the wrap-up is in place.',
            ),
          );
          toast('Wrap-up applied.');
        } catch (err) {
          const details = (err instanceof ApiError && err.body?.details) || [];
          const status = err instanceof ApiError ? err.status : undefined;
          fill(
            answer,
            h(
              'div',
              { class: 'notice bad', dataset: { status: String(status || '') } },
              h('strong', {}, `The server answered ${status || 'with an error'}: ${describeError(err)}`),
              h(
                'ul',
                {},
                details.map((p) =>
                  h(
                    'li',
                    {},
                    h('code', {}, p.errorCode),
                    ' ',
                    p.message,
                    p.hint ? h('div', { class: 'small muted' }, p.hint) : '',
                  ),
                ),
              ),
            ),
          );
        } finally {
          submit.disabled = false;
        }
      },
    },
    fields.codeId,
    fields.durationMs,
    fields.notes,
    verdict,
    h('div', { class: 'row' }, submit),
    answer,
  );
  validate();
  return {
    el: form,
    revalidate: () => {
      if (latest()) schedule();
    },
  };
}
