// @ts-check
// How values are written on screen.

/**
 * The local time of a timestamp, to the millisecond; a dash for none.
 * @param {string | null | undefined} iso
 */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * The local date and time of a timestamp; a dash for none.
 * @param {string | null | undefined} iso
 */
export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toLocaleDateString()} ${time(iso)}`;
}

/**
 * A duration in ms, for people: 120000 → "2 min", 1500 → "1.5 s".
 * @param {number | null | undefined} ms
 */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s`;
  const min = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  return s ? `${min} min ${s} s` : `${min} min`;
}

/**
 * An id shortened for a table: its first and last characters (demo ids differ at the end).
 * @param {string | null | undefined} id
 */
export function shortId(id) {
  return id ? `${id.slice(0, 8)}…${id.slice(-4)}` : '—';
}

/**
 * `value` as indented JSON.
 * @param {unknown} value
 */
export function json(value) {
  return JSON.stringify(value, null, 2);
}

/**
 * Pretty JSON when `text` parses as JSON, else the text as is.
 * @param {string | null | undefined} text
 */
export function prettyText(text) {
  if (text === null || text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
