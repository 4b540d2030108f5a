#!/usr/bin/env node
// The official Genesys Cloud JavaScript SDK (purecloud-platform-client-v2, pinned) runs one
// conversation details query against a real `wrapup serve` (docs/genesys.md#analytics; run by
// .ci/genesys-sdks after the Python analytics flow, so the last hour has conversations with
// wrap-ups): the answer parses, is paged, and the wrapup segments carry their codes.
// Environment: WRAPUP_URL, WRAPUP_CLIENT_ID / WRAPUP_CLIENT_SECRET (default: the demo client).
// The last line is "N passed, M failed"; exit status 1 if any check failed.
'use strict';
const platformClient = require('purecloud-platform-client-v2');

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) passed += 1; else failed += 1;
  console.log(`  ${ok ? '✓' : '✗'} ${what}${detail !== undefined ? `  (${detail})` : ''}`);
}

async function main() {
  const url = new URL(process.env.WRAPUP_URL || 'http://127.0.0.1:8080');
  const client = platformClient.ApiClient.instance;
  client.setGateway({ host: url.hostname, protocol: url.protocol.replace(':', ''), port: Number(url.port || 80) });
  await client.loginClientCredentialsGrant(
    process.env.WRAPUP_CLIENT_ID || '00000000-0000-4000-8000-00000000d001',
    process.env.WRAPUP_CLIENT_SECRET || 'demo-secret-not-for-production');
  const analytics = new platformClient.AnalyticsApi();
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const body = {
    interval: `${iso(now - 3600 * 1000)}/${iso(now + 60 * 1000)}`,
    order: 'desc',
    segmentFilters: [{ type: 'and', predicates: [{ type: 'dimension', dimension: 'wrapUpCode', operator: 'exists' }] }],
    paging: { pageSize: 10, pageNumber: 1 },
  };
  console.log('\n== postAnalyticsConversationsDetailsQuery');
  const r = await analytics.postAnalyticsConversationsDetailsQuery(body);
  const conversations = r.conversations || [];
  check(typeof r.totalHits === 'number' && r.totalHits > 0, 'totalHits counts the conversations with a wrap-up code', r.totalHits);
  check(conversations.length === Math.min(10, r.totalHits), 'one page of at most 10', conversations.length);
  const starts = conversations.map((c) => Date.parse(c.conversationStart));
  check(starts.every((s, i) => i === 0 || starts[i - 1] >= s), 'newest first (order desc)');
  const wraps = conversations.flatMap((c) => c.participants.flatMap((p) => p.sessions.flatMap((s) => s.segments)))
    .filter((g) => g.segmentType === 'wrapup');
  check(wraps.length >= conversations.length && wraps.every((g) => typeof g.wrapUpCode === 'string'),
    'every conversation has a wrapup segment with its wrapUpCode', wraps.length);
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.log(`  ✗ the JavaScript analytics query crashed: ${err.status || ''} ${JSON.stringify(err.body || err.message || err)}`);
  console.log(`\n${passed} passed, ${failed + 1} failed`);
  process.exit(2);
});
