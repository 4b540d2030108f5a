// @ts-check
// Sandbox: the fault-injection switch (admin; docs/chaos.md) with its current setting, and
// a traffic generator that drives interactions through their lifecycle from the browser,
// through the API, as `wrapup simulate` does: so many per second, each closed after a
// random time in a range, a share of them abandoned (closed while still queued).

import { all, api, describeError } from '../api.js';
import { can } from '../session.js';
import { field, fill, h, needsScope, options, panel, toast } from '../ui.js';

const PRESETS = [
  ['off', 'off'],
  ['503=10%', '10% answered 503'],
  ['429=10%,503=5%', 'rate limits and outages'],
  ['reset=5%,after-commit-reset=5%', 'dropped connections'],
  ['delay=200ms..800ms', 'slow answers'],
];

/** @param {HTMLElement} main */
export async function render(main) {
  fill(
    main,
    h('h1', {}, 'Sandbox'),
    can('admin') ? await faultSwitch() : panel('Fault injection', needsScope('admin', 'The fault-injection switch')),
    can('interaction:manage')
      ? await generator()
      : panel('Traffic generator', needsScope('interaction:manage', 'Generating traffic')),
  );
  return () => stopGenerator?.();
}

async function faultSwitch() {
  const current = h('code', { id: 'chaos-current' }, '…');
  const spec = h('input', { id: 'chaos-spec', size: 44, spellcheck: 'false' });
  const preset = h(
    'select',
    {
      id: 'chaos-preset',
      onchange: () => {
        spec.value = preset.value;
      },
    },
    options(PRESETS),
  );
  /** @param {string} value */
  const set = async (value) => {
    try {
      const result = await api('/api/v2/admin/chaos', { method: 'PUT', body: { spec: value } });
      current.textContent = result.spec;
      spec.value = result.spec;
      toast(result.spec === 'off' ? 'Fault injection is off.' : `Fault injection is on: ${result.spec}.`);
    } catch (e) {
      toast(describeError(e), 'bad');
    }
  };
  try {
    const setting = await api('/api/v2/admin/chaos');
    current.textContent = setting.spec;
    spec.value = setting.spec;
  } catch (e) {
    current.textContent = describeError(e);
  }
  return panel(
    'Fault injection',
    h('p', {}, 'In force now: ', current),
    h(
      'p',
      { class: 'muted small' },
      "Faults apply to /api/v2 (never to this switch, the OpenAPI document or /oauth/token), so a client can be tested against a bad day. The console's own requests meet them too.",
    ),
    h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          set(spec.value.trim() || 'off');
        },
      },
      field('Preset', preset),
      field('Faults', spec, 'e.g. 503=5%,429=5%,reset=1%,after-commit-reset=2%,delay=20ms..200ms'),
      h('button', { type: 'submit', id: 'chaos-apply' }, 'Apply'),
      h('button', { type: 'button', class: 'secondary', id: 'chaos-off', onclick: () => set('off') }, 'Turn off'),
    ),
  );
}

/** Stops the running traffic generator (null: none runs). @type {(() => void) | null} */
let stopGenerator = null;

async function generator() {
  /** @type {import('../api.js').Division[]} */
  const divisions = await all('/api/v2/authorization/divisions').catch(() => []);
  const division = h('select', { id: 'gen-division' }, options(divisions.map((d) => [d.id, d.name])));
  const rate = h('input', { id: 'gen-rate', type: 'number', min: 0.1, max: 50, step: 0.1, value: 2 });
  const count = h('input', { id: 'gen-count', type: 'number', min: 1, max: 10000, value: 20 });
  const closeMin = h('input', { id: 'gen-close-min', type: 'number', min: 0, max: 600, step: 0.1, value: 1 });
  const closeMax = h('input', { id: 'gen-close-max', type: 'number', min: 0, max: 600, step: 0.1, value: 5 });
  const abandon = h('input', { id: 'gen-abandon', type: 'number', min: 0, max: 100, value: 10 });
  const stats = { created: 0, activated: 0, closed: 0, abandoned: 0, errors: 0 };
  const statsBox = h('p', { id: 'gen-stats', 'aria-live': 'polite' });
  const drawStats = () => {
    statsBox.textContent = `${stats.created} created, ${stats.activated} activated, ${stats.closed} closed (${stats.abandoned} abandoned), ${stats.errors} errors.`;
  };
  const start = h('button', { type: 'submit', id: 'gen-start' }, 'Start');
  const stop = h('button', { type: 'button', class: 'secondary', id: 'gen-stop', disabled: true }, 'Stop');
  drawStats();

  const run = () => {
    for (const k of /** @type {(keyof typeof stats)[]} */ (Object.keys(stats))) stats[k] = 0;
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    const timers = new Set();
    let running = true;
    /**
     * Calls `fn` in `ms`, unless the generator has stopped by then.
     * @param {number} ms
     * @param {() => void} fn
     */
    const later = (ms, fn) => {
      const t = setTimeout(() => {
        timers.delete(t);
        if (running) fn();
      }, ms);
      timers.add(t);
    };
    const total = Math.max(1, Number(count.value));
    const every = 1000 / Math.max(0.1, Number(rate.value));
    const [lo, hi] = [Number(closeMin.value), Number(closeMax.value)].sort((a, b) => a - b);
    const share = Math.min(100, Math.max(0, Number(abandon.value))) / 100;
    const fail = () => {
      stats.errors += 1;
      drawStats();
    };
    const one = async () => {
      try {
        const i = await api('/api/v2/interactions', {
          method: 'POST',
          body: { divisionId: division.value, channel: ['voice', 'chat', 'email', 'message'][stats.created % 4] },
        });
        stats.created += 1;
        const abandoned = Math.random() < share;
        if (!abandoned) {
          await api(`/api/v2/interactions/${i.id}/state`, { method: 'POST', body: { state: 'active' } });
          stats.activated += 1;
        }
        drawStats();
        later((lo + Math.random() * (hi - lo)) * 1000, async () => {
          try {
            await api(`/api/v2/interactions/${i.id}/state`, { method: 'POST', body: { state: 'closed' } });
            stats.closed += 1;
            if (abandoned) stats.abandoned += 1;
            drawStats();
          } catch {
            fail();
          }
        });
      } catch {
        fail();
      }
    };
    for (let n = 0; n < total; n++) later(n * every, one);
    later(total * every + hi * 1000 + 100, () => finish());
    const finish = () => {
      running = false;
      for (const t of timers) clearTimeout(t);
      start.disabled = false;
      stop.disabled = true;
      stopGenerator = null;
    };
    stopGenerator = finish;
    start.disabled = true;
    stop.disabled = false;
  };
  stop.addEventListener('click', () => stopGenerator?.());

  return panel(
    'Traffic generator',
    h(
      'p',
      { class: 'muted small' },
      'Creates interactions through the API from this browser, activates them (or not: abandoned), and closes each after a random time; the server finalizes them after its settle time. Watch them on the overview and the interactions list.',
    ),
    h(
      'form',
      {
        onsubmit: (e) => {
          e.preventDefault();
          run();
        },
      },
      h(
        'div',
        { class: 'filters' },
        field('Division', division),
        field('Interactions per second', rate),
        field('How many', count),
        field('Close after, from (s)', closeMin),
        field('to (s)', closeMax),
        field('Abandoned (%)', abandon),
      ),
      h('div', { class: 'row' }, start, stop),
    ),
    statsBox,
  );
}
