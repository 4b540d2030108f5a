// @ts-check
// One recent request: its headers (credentials redacted), body and error body; for a
// refusal, the diagnosis in words; for a refused wrap-up, the body as sent beside the body
// that would have been accepted, as a diff; and "copy as curl" for both, with the token as
// $TOKEN. The diagnosis comes from the API (GET …/diagnosis), which computes the corrected
// body with the same rules as the dry run.

import { api, describeError } from '../api.js';
import { curl } from '../curl.js';
import { diffView } from '../diff.js';
import * as fmt from '../format.js';
import { copyButton, fill, h, panel, statusBadge } from '../ui.js';

/** @param {import('../api.js').ErrorDetail[]} problems */
function problemList(problems) {
  return h(
    'ul',
    { id: 'problems' },
    problems.map((p) =>
      h(
        'li',
        {},
        h('code', {}, p.errorCode),
        p.fieldName ? ` (${p.fieldName})` : '',
        ': ',
        p.message,
        p.hint ? h('div', { class: 'small' }, h('strong', {}, 'What to do: '), p.hint) : '',
      ),
    ),
  );
}

/**
 * A curl command with its copy button.
 * @param {string} id
 * @param {string} title
 * @param {string} command
 */
function curlBlock(id, title, command) {
  return h(
    'div',
    { class: 'curl' },
    h(
      'div',
      { class: 'spread' },
      h('h3', {}, title),
      copyButton(`Copy ${title.toLowerCase()}`, () => command),
    ),
    h('pre', { id, class: 'mono' }, command),
  );
}

/**
 * @param {HTMLElement} main
 * @param {import('../app.js').PageContext} context
 */
export async function render(main, { params }) {
  /** @type {import('../api.js').RequestDiagnosis} */
  let diagnosis;
  try {
    diagnosis = await api(`/api/v2/inspector/requests/${encodeURIComponent(params.id)}/diagnosis`);
  } catch (e) {
    fill(
      main,
      h('h1', {}, 'Request'),
      h('p', { class: 'notice bad' }, describeError(e)),
      h('p', {}, h('a', { href: '#/requests' }, 'Back to the request log')),
    );
    return;
  }
  const r = diagnosis.request;
  const sent = fmt.prettyText(r.requestBody);
  const fix = diagnosis.suggestion;
  const check = diagnosis.suggestionCheck;

  const diagnosisPanel = panel(
    'Diagnosis',
    h('p', { id: 'diagnosis-summary', class: r.status >= 400 ? 'notice bad' : 'notice ok' }, diagnosis.summary),
    diagnosis.problems.length ? problemList(diagnosis.problems) : null,
  );

  let fixPanel = null;
  if (fix) {
    const accepted = JSON.stringify(fix.body, null, 2);
    fixPanel = panel(
      'The body that would have been accepted',
      diffView('Sent', sent, 'Would have been accepted', accepted),
      fix.changes.length
        ? [
            h('h3', {}, 'What changed'),
            h(
              'ul',
              { id: 'changes' },
              fix.changes.map((c) => h('li', {}, c)),
            ),
          ]
        : h('p', {}, 'The body itself was right.'),
      fix.unresolved.length
        ? [
            h('h3', {}, 'Not fixed'),
            h(
              'ul',
              { id: 'unresolved' },
              fix.unresolved.map((c) => h('li', {}, c)),
            ),
          ]
        : null,
      check
        ? h(
            'p',
            { id: 'fix-check', class: check.valid ? 'notice ok' : 'notice warn' },
            check.valid
              ? 'Sent now, the corrected body would be accepted (204).'
              : `Sent now, the corrected body would still be refused (${check.status}): ${check.details.map((d) => d.message).join(' ')}`,
          )
        : null,
      curlBlock(
        'curl-fixed',
        'Corrected request as curl',
        curl({
          method: r.method,
          path: r.path,
          headers: [{ name: 'Content-Type', value: 'application/json' }],
          body: JSON.stringify(fix.body),
        }),
      ),
    );
  }

  fill(
    main,
    h('h1', {}, r.method, ' ', h('span', { class: 'mono' }, r.path), ' ', statusBadge(r.status)),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Time'),
      h('dd', {}, fmt.dateTime(r.time)),
      h('dt', {}, 'Latency'),
      h('dd', {}, `${r.latencyMs.toFixed(1)} ms`),
      h('dt', {}, 'Client'),
      h('dd', { class: 'mono' }, r.clientId || '— (no valid token)'),
      h('dt', {}, 'Request id'),
      h('dd', { class: 'mono' }, r.requestId),
    ),
    diagnosisPanel,
    fixPanel,
    panel(
      'Request',
      h('h3', {}, 'Headers'),
      h(
        'table',
        { id: 'headers' },
        h('caption', { class: 'visually-hidden' }, 'Request headers'),
        h(
          'tbody',
          {},
          r.requestHeaders.map((hd) =>
            h('tr', {}, h('th', { scope: 'row', class: 'mono' }, hd.name), h('td', { class: 'mono' }, hd.value)),
          ),
        ),
      ),
      h('h3', {}, 'Body'),
      r.requestBody ? h('pre', { id: 'request-body' }, sent) : h('p', { class: 'muted' }, 'No body.'),
      r.requestBodyTruncated ? h('p', { class: 'muted small' }, `Cut at 16 KiB of ${r.requestBodyBytes} bytes.`) : null,
      curlBlock(
        'curl-sent',
        'Request as curl',
        curl({ method: r.method, path: r.path, headers: r.requestHeaders, body: r.requestBody }),
      ),
    ),
    r.responseBody ? panel('Error body', h('pre', { id: 'error-body' }, fmt.json(r.responseBody))) : null,
    h('p', {}, h('a', { href: '#/requests' }, '← Back to the request log')),
  );
}
