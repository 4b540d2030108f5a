// @ts-check
// Codes and divisions: the granted divisions (create one: admin), and the wrap-up codes of
// each (create, rename, archive: wrapup-code:manage).

import { all, api, describeError } from '../api.js';
import * as fmt from '../format.js';
import { can } from '../session.js';
import { field, fill, h, needsScope, options, panel, toast } from '../ui.js';

/** @typedef {import('../api.js').Division} Division */

/**
 * @param {HTMLElement} main
 * @param {import('../app.js').PageContext} context
 */
export async function render(main, { query }) {
  /** @type {Division[]} */
  let divisions = await all('/api/v2/authorization/divisions').catch(() => []);
  const names = () => Object.fromEntries(divisions.map((d) => [d.id, d.name]));
  const divisionBox = h('div');
  const codesBox = h('div');
  const includeArchived = h('input', { type: 'checkbox', id: 'include-archived', checked: query.archived === 'true' });
  const divisionFilter = h(
    'select',
    { id: 'codes-division' },
    options([['', 'every division'], ...divisions.map((d) => [d.id, d.name])], query.divisionId),
  );

  const drawDivisions = () =>
    fill(
      divisionBox,
      h(
        'table',
        { id: 'divisions' },
        h('caption', {}, 'Divisions this token is granted'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Id'))),
        h(
          'tbody',
          {},
          divisions.map((d) => h('tr', {}, h('td', {}, d.name), h('td', { class: 'mono' }, d.id))),
        ),
      ),
    );

  async function loadCodes() {
    const params = new URLSearchParams();
    if (divisionFilter.value) params.set('divisionId', divisionFilter.value);
    if (includeArchived.checked) params.set('includeArchived', 'true');
    let codes;
    try {
      codes = await all(`/api/v2/routing/wrapupcodes${params.toString() ? `?${params}` : ''}`);
    } catch (e) {
      fill(codesBox, h('p', { class: 'notice bad' }, describeError(e)));
      return;
    }
    const manage = can('wrapup-code:manage');
    fill(
      codesBox,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'codes' },
          h('caption', {}, 'Wrap-up codes'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Name', 'Division', 'Description', 'Status', 'Id', manage ? 'Actions' : null]
                .filter(Boolean)
                .map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            codes.map((c) => codeRow(c, names(), manage, loadCodes)),
          ),
        ),
      ),
      manage ? null : needsScope('wrapup-code:manage', 'Creating, renaming and archiving codes'),
    );
  }
  includeArchived.addEventListener('change', loadCodes);
  divisionFilter.addEventListener('change', loadCodes);

  const createDivision = can('admin')
    ? divisionForm(async (d) => {
        divisions = [...divisions, d];
        drawDivisions();
        divisionFilter.append(h('option', { value: d.id }, d.name));
      })
    : needsScope('admin', 'Creating a division');

  fill(
    main,
    h('h1', {}, 'Codes and divisions'),
    panel(
      'Wrap-up codes',
      h(
        'div',
        { class: 'filters' },
        field('Division', divisionFilter),
        h(
          'div',
          { class: 'field row' },
          includeArchived,
          h('label', { for: 'include-archived' }, 'Include archived codes'),
        ),
      ),
      codesBox,
      can('wrapup-code:manage') ? codeForm(divisions, loadCodes) : null,
    ),
    panel('Divisions', divisionBox, createDivision),
  );
  drawDivisions();
  await loadCodes();
}

/**
 * One code's row, with its rename and archive buttons when `manage`.
 * @param {import('../api.js').WrapUpCode} c
 * @param {Record<string, string>} names division names by id
 * @param {boolean} manage
 * @param {() => void} reload
 */
function codeRow(c, names, manage, reload) {
  const row = h(
    'tr',
    { dataset: { code: c.name, archived: String(c.archived) } },
    h('td', {}, c.name),
    h('td', {}, names[c.divisionId] || fmt.shortId(c.divisionId)),
    h('td', {}, c.description || '—'),
    h(
      'td',
      {},
      c.archived ? h('span', { class: 'badge' }, 'archived') : h('span', { class: 'badge completed' }, 'current'),
    ),
    h('td', { class: 'mono small' }, c.id),
  );
  if (!manage) return row;
  const rename = async () => {
    const input = h('input', { value: c.name, 'aria-label': `New name for ${c.name}`, size: 20 });
    const form = h(
      'form',
      {
        class: 'row',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api(`/api/v2/routing/wrapupcodes/${c.id}`, {
              method: 'PUT',
              body: { name: input.value, ...(c.description ? { description: c.description } : {}) },
            });
            toast(`Renamed to ${input.value}.`);
            reload();
          } catch (err) {
            toast(describeError(err), 'bad');
          }
        },
      },
      input,
      h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', class: 'secondary', onclick: reload }, 'Cancel'),
    );
    fill(row.children[0], form);
    input.focus();
  };
  const archive = async () => {
    if (!window.confirm(`Archive the code "${c.name}"? It stays in history but can no longer be applied.`)) return;
    try {
      await api(`/api/v2/routing/wrapupcodes/${c.id}`, { method: 'DELETE' });
      toast(`${c.name} archived.`);
      reload();
    } catch (err) {
      toast(describeError(err), 'bad');
    }
  };
  row.append(
    h(
      'td',
      {},
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: rename, 'aria-label': `Rename ${c.name}` },
          'Rename',
        ),
        c.archived
          ? null
          : h(
              'button',
              { type: 'button', class: 'danger', onclick: archive, 'aria-label': `Archive ${c.name}` },
              'Archive',
            ),
      ),
    ),
  );
  return row;
}

/**
 * The form that creates a code.
 * @param {Division[]} divisions
 * @param {() => void} reload
 */
function codeForm(divisions, reload) {
  const division = h('select', { name: 'divisionId' }, options(divisions.map((d) => [d.id, d.name])));
  const name = h('input', { name: 'name', required: true, maxlength: 100 });
  const description = h('input', { name: 'description', size: 40 });
  return h(
    'form',
    {
      id: 'create-code',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          /** @type {{name: string, divisionId: string, description?: string}} */
          const body = { name: name.value, divisionId: division.value };
          if (description.value) body.description = description.value;
          const code = await api('/api/v2/routing/wrapupcodes', { method: 'POST', body });
          toast(`Code ${code.name} created.`);
          name.value = '';
          description.value = '';
          reload();
        } catch (err) {
          toast(describeError(err), 'bad');
        }
      },
    },
    h('h3', {}, 'Create a code'),
    h(
      'div',
      { class: 'filters' },
      field('Division', division),
      field('Name', name),
      field('Description', description),
      h('button', { type: 'submit' }, 'Create code'),
    ),
  );
}

/**
 * The form that creates a division.
 * @param {(division: Division) => void} onCreated
 */
function divisionForm(onCreated) {
  const name = h('input', { name: 'name', required: true, maxlength: 100 });
  return h(
    'form',
    {
      id: 'create-division',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const d = await api('/api/v2/authorization/divisions', { method: 'POST', body: { name: name.value } });
          toast(`Division ${d.name} created.`);
          name.value = '';
          onCreated(d);
        } catch (err) {
          toast(describeError(err), 'bad');
        }
      },
    },
    h('h3', {}, 'Create a division'),
    h('div', { class: 'filters' }, field('Name', name), h('button', { type: 'submit' }, 'Create division')),
  );
}
