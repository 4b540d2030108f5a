// @ts-check
// One interaction: its state and the countdown to finalization, the timeline (created,
// state changes, finalized, each wrap-up) kept current by the event stream, the current
// wrap-up and its history, the lifecycle buttons (interaction:manage) and the form that
// applies a wrap-up (interaction:write), checked as you type by the server's own rules
// (the dry run, POST …/wrap-up/validate). An interaction of a queue also shows its queue,
// agent, prompt and the countdown to the prompt's timeout, a Skip button where the prompt
// allows it, and the form offers the queue's codes.

import { ApiError, api, describeError } from '../api.js';
import { interactionEvents } from '../events.js';
import * as fmt from '../format.js';
import { agentName, canSkip, promptWords, queueName, timeoutCountdown } from '../routing.js';
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
        what: `${n === 0 ? 'Wrap-up applied' : 'Wrap-up replaced'}: ${w.codeName}${w.system ? ' (the system, at the timeout)' : ''}, ${fmt.duration(w.durationMs)}${w.notes ? `, “${w.notes}”` : ''}`,
      })),
      i.routing?.afterCallWorkEndedAt && {
        at: i.routing.afterCallWorkEndedAt,
        what: i.routing.wrapupSkipped ? 'Wrap-up skipped: after-call work ended' : 'After-call work ended',
      },
    ].filter(Boolean)
  );
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (i.state === 'closed' && !i.finalized && i.finalizesAt) {
    entries.push({ at: i.finalizesAt, what: 'Finalization due', pending: true });
  }
  if (i.routing?.wrapupDueAt && !i.routing.afterCallWorkEndedAt) {
    entries.push({
      at: i.routing.wrapupDueAt,
      what: 'Timeout due: the system applies ININ-WRAP-UP-TIMEOUT',
      pending: true,
    });
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
            h('td', {}, w.codeName, w.system ? [' ', systemBadge()] : null),
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

  /** The names of the interaction's queue and agent, read again when its routing names others. */
  const names = {
    queueId: '',
    queue: /** @type {string | null} */ (null),
    agentId: '',
    agent: /** @type {string | null} */ (null),
  };
  const loadNames = async () => {
    const r = interaction.routing;
    const queueId = r?.queueId ?? '';
    const agentId = r?.agentId ?? '';
    if (queueId === names.queueId && agentId === names.agentId) return;
    const [queue, agent] = await Promise.all([
      queueId ? queueName(queueId) : null,
      agentId ? agentName(agentId) : null,
    ]);
    Object.assign(names, { queueId, queue, agentId, agent });
  };
  await loadNames();

  const header = h('div');
  const actions = h('div', { class: 'row' });
  const routingBox = h('div');
  const timeline = h('div');
  const current = h('div');
  const historyBox = h('div');
  const form = can('interaction:write')
    ? await applyForm(interaction, () => interaction, names.queue)
    : { el: needsScope('interaction:write', 'Applying a wrap-up'), update: () => {} };

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
          i.routing?.wrapupDueAt && !i.routing.afterCallWorkEndedAt ? timeoutCountdown(i.routing.wrapupDueAt) : null,
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
    drawRouting();
    fill(timeline, timelineOf(i, history));
    fill(
      current,
      i.wrapUp
        ? h(
            'dl',
            { class: 'kv', id: 'current-wrapup' },
            h('dt', {}, 'Code'),
            h(
              'dd',
              {},
              i.wrapUp.system ? [i.wrapUp.codeName, ' ', systemBadge()] : `${i.wrapUp.codeName} (${i.wrapUp.codeId})`,
            ),
            h('dt', {}, 'Duration'),
            h('dd', {}, `${i.wrapUp.durationMs} ms (${fmt.duration(i.wrapUp.durationMs)})`),
            h('dt', {}, 'Notes'),
            h('dd', {}, i.wrapUp.notes || '—'),
            h('dt', {}, 'Applied'),
            h('dd', {}, `${fmt.dateTime(i.wrapUp.appliedAt)} by ${i.wrapUp.appliedBy}`),
          )
        : i.routing?.wrapupSkipped
          ? h(
              'p',
              { class: 'muted', id: 'current-wrapup', dataset: { skipped: 'true' } },
              'None: the wrap-up was skipped (the interaction is completed without one).',
            )
          : h('p', { class: 'muted', id: 'current-wrapup' }, 'None yet.'),
    );
    fill(historyBox, historyTable(history));
  };

  /** The queue, agent and after-call work of an interaction of a queue (nothing without one). */
  function drawRouting() {
    const r = interaction.routing;
    if (!r) {
      fill(routingBox);
      return;
    }
    const ended = r.afterCallWorkEndedAt;
    const status = ended
      ? `ended ${fmt.dateTime(ended)}${r.wrapupSkipped ? ' (skipped)' : ''}`
      : interaction.state === 'closed'
        ? 'in after-call work'
        : `starts when the interaction closes (it is ${interaction.state})`;
    fill(
      routingBox,
      panel(
        'Queue and after-call work',
        h(
          'dl',
          { class: 'kv', id: 'routing' },
          r.queueId
            ? [
                h('dt', {}, 'Queue'),
                h('dd', { id: 'routing-queue' }, names.queue ? `${names.queue} (${r.queueId})` : r.queueId),
              ]
            : null,
          r.agentId
            ? [
                h('dt', {}, 'Agent'),
                h('dd', { id: 'routing-agent' }, names.agent ? `${names.agent} (${r.agentId})` : r.agentId),
              ]
            : null,
          h('dt', {}, 'Prompt'),
          h(
            'dd',
            { id: 'routing-prompt', dataset: { prompt: r.wrapupPrompt ?? 'mandatory' } },
            promptWords(r.wrapupPrompt),
          ),
          r.wrapupTimeoutMs ? [h('dt', {}, 'Timeout'), h('dd', {}, fmt.duration(r.wrapupTimeoutMs))] : null,
          r.wrapupDueAt
            ? [
                h('dt', {}, 'Timeout due'),
                h(
                  'dd',
                  { id: 'routing-due' },
                  fmt.dateTime(r.wrapupDueAt),
                  ended ? null : [' (', timeoutCountdown(r.wrapupDueAt), ')'],
                ),
              ]
            : null,
          h('dt', {}, 'After-call work'),
          h('dd', { id: 'routing-acw', dataset: { ended: ended ? 'true' : 'false' } }, status),
        ),
        skipButton(),
      ),
    );
  }

  function skipButton() {
    const r = interaction.routing;
    if (!r || !(r.wrapupPrompt === 'optional' || r.wrapupPrompt === 'agentRequested')) return null;
    const note = needsScope('interaction:write', 'Skipping the wrap-up');
    if (note) return note;
    if (!canSkip(interaction)) return null;
    return h(
      'div',
      { class: 'row' },
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          id: 'skip-wrapup',
          onclick: async () => {
            try {
              // The answer is the interaction, completed without a wrap-up.
              const skipped = await api(`/api/v2/interactions/${id}/wrap-up/skip`, { method: 'POST' });
              if (skipped.version >= interaction.version) interaction = skipped;
              draw();
              form.update();
              toast('Wrap-up skipped.');
            } catch (e) {
              toast(describeError(e), 'bad');
            }
          },
        },
        'Skip the wrap-up',
      ),
      h('span', { class: 'muted small' }, 'The prompt lets the agent skip it: the interaction completes without one.'),
    );
  }

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
    routingBox,
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
    await loadNames();
    draw();
    form.update();
  });
  return stop;
}

/**
 * A refused request's problems, as a list.
 * @param {ErrorDetail[]} problems
 */
function problemItems(problems) {
  return h(
    'ul',
    {},
    problems.map((p) =>
      h('li', {}, h('code', {}, p.errorCode), ' ', p.message, p.hint ? h('div', { class: 'small muted' }, p.hint) : ''),
    ),
  );
}

/**
 * The apply form. The body is checked by the dry run as it is typed, but a field's problems
 * show only once the field was changed or Apply pressed: an untouched form is calm. Apply is
 * offered only when the server could accept a wrap-up: while the interaction settles it
 * becomes "Apply when finalized", which waits for the interaction.finalized event (as
 * `wrapup apply --wait` does) and then sends; before it is closed it is disabled, with the
 * reason. The server's answer stays until the form is changed, or, for a refusal, until a
 * newer verdict replaces it.
 * @param {Interaction} interaction
 * @param {() => Interaction} latest
 * @param {string | null} queue the name of the interaction's queue
 */
async function applyForm(interaction, latest, queue) {
  const id = interaction.id;
  /** @type {import('../api.js').WrapUpCode[]} */
  let codes = [];
  /** @type {HTMLSelectElement | HTMLInputElement} */
  let codeControl;
  // An interaction of a queue takes the queue's codes; once the queue is deleted, its division's.
  const queueId = interaction.routing?.queueId;
  let fromQueue = false;
  if (can('wrapup-code:view')) {
    /** @type {import('../api.js').WrapUpCode[] | null} */
    const queueCodes = queueId
      ? await api(`/api/v2/routing/queues/${queueId}/wrapupcodes?pageSize=500`)
          .then((p) => p.entities)
          .catch(() => null)
      : null;
    fromQueue = queueCodes !== null;
    codes =
      queueCodes ??
      (await api(`/api/v2/routing/wrapupcodes?divisionId=${interaction.divisionId}&pageSize=500`)
        .then((p) => p.entities)
        .catch(() => []));
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
      autocomplete: 'off',
    });
  }
  const codeHelp = !can('wrapup-code:view')
    ? 'The code id (listing codes needs the scope wrapup-code:view).'
    : fromQueue
      ? codes.length
        ? `Codes of the queue ${queue ?? queueId}: the server refuses any other (wrapup.code.not.in.queue).`
        : `The queue ${queue ?? queueId} has no code to apply.`
      : codes.length
        ? "Codes of the interaction's division."
        : "The interaction's division has no code to apply.";
  // No placeholder: an empty field looks empty, and the help says the unit with an example.
  const duration = h('input', {
    name: 'durationMs',
    id: 'apply-duration',
    inputmode: 'numeric',
    autocomplete: 'off',
    size: 12,
  });
  const durationSaid = h('span', { id: 'apply-duration-said' });
  const notes = h('textarea', { name: 'notes', id: 'apply-notes', maxlength: 2000 });
  const verdict = h('div', { id: 'apply-verdict', 'aria-live': 'polite' });
  const ready = h('div', { id: 'apply-ready', 'aria-live': 'polite', hidden: true });
  const answer = h('div', { id: 'apply-answer', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', id: 'apply-submit' }, 'Apply wrap-up');
  const cancel = h('button', { type: 'button', class: 'secondary', id: 'apply-cancel', hidden: true }, 'Cancel');
  const fields = {
    codeId: field('Wrap-up code', codeControl, codeHelp),
    durationMs: field('Duration, in milliseconds', duration, [
      'Time the agent spent in wrap-up, in whole milliseconds from 1 to 86 400 000 (24 hours): for example 120000 for 2 minutes. ',
      durationSaid,
    ]),
    notes: field('Notes (optional)', notes, 'At most 1024 characters.'),
  };
  duration.after(h('span', { class: 'unit', 'aria-hidden': 'true' }, ' ms'));

  const body = () => {
    const out = {};
    if (codeControl.value.trim()) out.codeId = codeControl.value.trim();
    const d = duration.value.trim();
    if (d !== '') out.durationMs = /^-?\d+(\.\d+)?$/.test(d) ? Number(d) : d;
    if (notes.value !== '') out.notes = notes.value;
    return out;
  };

  /** @type {Set<string>} the fields changed since the page was shown: only their problems show, until Apply */
  const touched = new Set();
  let submitted = false;
  /** Waiting for the interaction.finalized event to send (Apply when finalized). */
  let armed = false;
  let sending = false;
  /** @type {import('../api.js').WrapUpValidation | null} the newest verdict */
  let last = null;
  /** Whether the answer shown is a refusal, and the interaction's version it answered. */
  let answerRefused = false;
  let answeredVersion = 0;
  /** @type {Record<string, string>} how the verdict names a field */
  const named = { codeId: 'the code', durationMs: 'the duration', notes: 'the notes' };

  /**
   * Shows each field's problems under it, for the fields changed (all of them once Apply was
   * pressed); returns the other problems, and the fields whose problems are held back.
   * @param {ErrorDetail[]} details
   */
  const showProblems = (details) => {
    /** @type {string[]} */
    const held = [];
    for (const [name, f] of Object.entries(fields)) {
      const all = details.filter((p) => p.fieldName === name);
      const mine = submitted || touched.has(name) ? all : [];
      if (all.length && !mine.length) held.push(name);
      fill(
        /** @type {Element} */ (f.querySelector('.problem')),
        mine.map((p) => h('div', {}, p.message)),
      );
      f.querySelector('input, select, textarea')?.setAttribute('aria-invalid', mine.length ? 'true' : 'false');
    }
    return { others: details.filter((p) => !Object.keys(fields).includes(p.fieldName ?? '')), held };
  };

  const drawVerdict = () => {
    if (!last) return;
    const { others, held } = showProblems(last.details);
    if (!submitted && !touched.size) {
      fill(
        verdict,
        h(
          'p',
          { class: 'muted small', dataset: { untouched: 'true' } },
          "Choose a code and enter a duration: as you type, the form asks the server's own rules whether it would accept the wrap-up.",
        ),
      );
      return;
    }
    // Refused only because the interaction is not finalized yet: the body is right, and the
    // line above the button already says what Apply does about it.
    const onlyNotYet =
      !last.valid &&
      !held.length &&
      last.details.length > 0 &&
      last.details.every((p) => p.errorCode === 'interaction.not.finalized');
    fill(
      verdict,
      last.valid
        ? h('p', { class: 'notice ok', dataset: { valid: 'true' } }, 'The server would accept this wrap-up now (204).')
        : onlyNotYet
          ? h(
              'p',
              { class: 'notice', dataset: { valid: 'false' } },
              `The body passes the server's rules; the server would refuse it now (${last.status}) only because the interaction is not finalized yet (`,
              h('code', {}, 'interaction.not.finalized'),
              ').',
            )
          : h(
              'div',
              { class: 'notice warn', dataset: { valid: 'false' } },
              h('strong', {}, `The server would refuse this now (${last.status}).`),
              others.length ? problemItems(others) : '',
              held.length
                ? h('p', { class: 'small' }, `Not filled in yet: ${held.map((n) => named[n] || n).join(' and ')}.`)
                : '',
            ),
    );
  };

  /** The Apply button and, when the server could not accept a wrap-up yet, why. */
  const drawReady = () => {
    const i = latest();
    cancel.hidden = !armed;
    if (i.finalized) {
      ready.hidden = true;
      fill(ready);
      submit.textContent = 'Apply wrap-up';
      submit.disabled = sending;
      return;
    }
    ready.hidden = false;
    if (i.state === 'closed') {
      const left = i.finalizesAt ? [' (', countdown(i.finalizesAt), ')'] : '';
      submit.textContent = armed ? 'Waiting for finalization…' : 'Apply when finalized';
      submit.disabled = armed;
      fill(
        ready,
        armed
          ? h(
              'p',
              { class: 'notice', dataset: { waiting: 'true' } },
              'This wrap-up will be sent when the interaction is finalized',
              left,
              ', as wrapup apply --wait does: the console waits for the event that says so. Keep this page open, or Cancel.',
            )
          : h(
              'p',
              { class: 'notice' },
              'Not finalized yet',
              left,
              ': the server refuses a wrap-up until the interaction is. Apply when finalized sends this one as soon as it is.',
            ),
      );
      return;
    }
    armed = false;
    cancel.hidden = true;
    submit.textContent = 'Apply wrap-up';
    submit.disabled = true;
    fill(
      ready,
      h(
        'p',
        { class: 'notice' },
        `The interaction is ${i.state}: a wrap-up can be applied once it is closed and finalized.`,
      ),
    );
  };

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let asked = 0;
  const validate = async () => {
    const ticket = ++asked;
    const d = Number(duration.value.trim());
    durationSaid.textContent =
      duration.value.trim() !== '' && Number.isInteger(d) && d > 0 ? `You entered ${fmt.duration(d)}.` : '';
    try {
      const result = await api(`/api/v2/interactions/${id}/wrap-up/validate`, { method: 'POST', body: body() });
      if (ticket !== asked) return;
      last = result;
      drawVerdict();
      // A refusal answered the interaction as it was (a changed body clears it at once):
      // this newer verdict replaces it.
      if (answerRefused && latest().version !== answeredVersion) {
        fill(answer);
        answerRefused = false;
      }
    } catch (e) {
      if (ticket === asked) fill(verdict, h('p', { class: 'notice bad' }, `The check failed: ${describeError(e)}`));
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(validate, VALIDATE_DELAY_MS);
  };

  const send = async () => {
    const sentVersion = latest().version;
    sending = true;
    submit.disabled = true;
    fill(answer);
    answerRefused = false;
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
          problemItems(details),
        ),
      );
      answerRefused = true;
    } finally {
      answeredVersion = sentVersion;
      sending = false;
      drawReady();
      // The interaction changed while the request was on its way: ask for the newer verdict.
      if (answerRefused && latest().version !== sentVersion) schedule();
    }
  };

  cancel.addEventListener('click', () => {
    armed = false;
    drawReady();
    submit.focus();
  });

  /** @param {Event} e */
  const changed = (e) => {
    const name = /** @type {HTMLInputElement} */ (e.target).name;
    if (name) touched.add(name);
    // The answer was about the body as it was. The verdict is redrawn when the check of the
    // new body answers (the one shown is about the body as it was, too).
    fill(answer);
    answerRefused = false;
    schedule();
  };

  const form = h(
    'form',
    {
      id: 'apply-form',
      'aria-describedby': 'apply-verdict',
      oninput: changed,
      onchange: changed,
      onsubmit: async (e) => {
        e.preventDefault();
        submitted = true;
        // Every field's problems, from a check of the body as it is now.
        clearTimeout(timer);
        validate();
        const i = latest();
        if (i.finalized) {
          await send();
        } else if (i.state === 'closed') {
          armed = true;
          fill(answer);
          drawReady();
          cancel.focus();
        }
      },
    },
    fields.codeId,
    fields.durationMs,
    fields.notes,
    verdict,
    ready,
    h('div', { class: 'row' }, submit, cancel),
    answer,
  );
  drawReady();
  validate();
  return {
    el: form,
    /** The interaction changed: Apply follows, a waiting wrap-up is sent, the verdict is asked again. */
    update: () => {
      if (armed && latest().finalized && !sending) {
        armed = false;
        send();
      }
      drawReady();
      schedule();
    },
  };
}

/** The mark of the system's wrap-up at a time-boxed prompt's timeout. */
function systemBadge() {
  return h(
    'span',
    { class: 'badge system', dataset: { system: 'true' }, title: 'Applied by the system when the timeout passed' },
    'system timeout',
  );
}
