// @ts-check
// "Copy as curl": a request as a shell command, with the token as $TOKEN (never its value).

/**
 * Single-quotes `s` for a POSIX shell.
 * @param {unknown} s
 */
function quote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/** Headers worth repeating: not the ones curl sets itself or that only a browser sends. */
const KEPT = new Set(['content-type', 'accept', 'if-match', 'last-event-id', 'x-request-id']);

/**
 * The curl command for `method` `path` with `headers` ([{name, value}]) and `body`. The
 * Authorization header, whatever it held, becomes `Bearer $TOKEN` (in double quotes, so
 * the shell expands it).
 * @param {{
 *   method: string,
 *   path: string,
 *   headers?: import('./api.js').InspectedHeader[],
 *   body?: string | null,
 * }} request
 */
export function curl({ method, path, headers = [], body }) {
  const parts = ['curl -sS -i', '-X', method, quote(`${location.origin}${path}`)];
  const hasAuth = headers.some((hd) => hd.name.toLowerCase() === 'authorization') || path.startsWith('/api/v2/');
  if (hasAuth) parts.push('-H', '"Authorization: Bearer $TOKEN"');
  for (const hd of headers) {
    const name = hd.name.toLowerCase();
    if (KEPT.has(name) && name !== 'x-request-id') parts.push('-H', quote(`${hd.name}: ${hd.value}`));
  }
  if (body !== null && body !== undefined && body !== '') parts.push('--data-raw', quote(body));
  return parts.join(' ');
}
