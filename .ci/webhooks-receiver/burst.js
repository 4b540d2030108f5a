// CI (.ci/webhooks): a burst of 1,000 events across 100 interactions, delivered by a real
// `wrapup serve` to this receiver, which verifies every delivery with the official Standard
// Webhooks library and fails the first attempt of 20% of the events on purpose. It checks that
// every delivery verified; that each event was delivered (counting by webhook-id) at least once;
// that the application (below) was handed each event exactly once after de-duplication; and
// that each interaction's events reached it in order.
//
// Environment: WRAPUP_URL, WRAPUP_CLIENT_ID, WRAPUP_CLIENT_SECRET.
"use strict";

const http = require("node:http");
const { Webhook } = require("standardwebhooks");

const INTERACTIONS = 100;
const EVENTS_PER_INTERACTION = 10; // created, active, closed, finalized, 6 wrap-ups
const EVENTS = INTERACTIONS * EVENTS_PER_INTERACTION;
const CONCURRENCY = 20;
const DEADLINE_MS = 180_000;

const base = process.env.WRAPUP_URL;
let token;

async function api(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// What the receiver saw.
const seen = {
  deliveries: 0,
  unverified: 0,
  failedOnPurpose: new Set(), // webhook-ids whose first attempt got a 500
  acknowledged: new Map(), // webhook-id -> number of 2xx answers
  handed: new Set(), // webhook-ids handed to the application
};
// The application: events handed to it, once each.
const application = [];

function startReceiver(webhook) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      seen.deliveries += 1;
      const body = Buffer.concat(chunks).toString("utf8");
      let event;
      try {
        event = webhook().verify(body, req.headers);
      } catch (e) {
        seen.unverified += 1;
        res.writeHead(401).end(String(e));
        return;
      }
      const id = req.headers["webhook-id"];
      // 20% of the events (every fifth sequence number) fail their first attempt.
      if (event.sequence % 5 === 0 && !seen.failedOnPurpose.has(id)) {
        seen.failedOnPurpose.add(id);
        res.writeHead(500).end("failing the first attempt on purpose");
        return;
      }
      seen.acknowledged.set(id, (seen.acknowledged.get(id) || 0) + 1);
      if (!seen.handed.has(id)) {
        seen.handed.add(id);
        application.push(event);
      }
      res.writeHead(200).end("ok");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function oneInteraction(division, code) {
  const { id } = await api("POST", "/api/v2/interactions", { divisionId: division, channel: "voice" });
  await api("POST", `/api/v2/interactions/${id}/state`, { state: "active" });
  await api("POST", `/api/v2/interactions/${id}/state`, { state: "closed" }); // and finalized: --settle-ms 0
  for (let n = 1; n <= EVENTS_PER_INTERACTION - 4; n++) {
    await api("PUT", `/api/v2/interactions/${id}/wrap-up`, { codeId: code, durationMs: n * 1000 });
  }
}

async function main() {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  const basic = Buffer.from(`${process.env.WRAPUP_CLIENT_ID}:${process.env.WRAPUP_CLIENT_SECRET}`).toString("base64");
  const issued = await fetch(`${base}/oauth/token`, { method: "POST", headers: { authorization: `Basic ${basic}` }, body: form });
  token = (await issued.json()).access_token;

  let verifier;
  const receiver = await startReceiver(() => verifier);
  const url = `http://127.0.0.1:${receiver.address().port}/hooks`;
  const division = (await api("POST", "/api/v2/authorization/divisions", { name: `CI ${Date.now()}` })).id;
  const code = (await api("POST", "/api/v2/routing/wrapupcodes", { name: "Sale", divisionId: division })).id;
  const created = await api("POST", "/api/v2/webhooks", { url, divisions: [division] });
  verifier = new Webhook(created.secret);

  const started = Date.now();
  for (let i = 0; i < INTERACTIONS; i += CONCURRENCY) {
    const batch = [];
    for (let j = i; j < Math.min(i + CONCURRENCY, INTERACTIONS); j++) batch.push(oneInteraction(division, code));
    await Promise.all(batch);
  }
  const committed = Date.now();
  while (application.length < EVENTS && Date.now() - started < DEADLINE_MS) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = Date.now();
  receiver.close();

  const failures = [];
  const check = (ok, what) => {
    console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
    if (!ok) failures.push(what);
  };
  console.log(
    `webhooks: ${EVENTS} events committed in ${((committed - started) / 1000).toFixed(1)} s, ` +
      `all delivered after ${((done - started) / 1000).toFixed(1)} s; ${seen.deliveries} deliveries received`
  );
  check(seen.unverified === 0, `every delivery verified with standardwebhooks (${seen.unverified} did not)`);
  check(seen.failedOnPurpose.size === EVENTS / 5, `the first attempt of 20% of the events failed (${seen.failedOnPurpose.size})`);
  check(seen.acknowledged.size === EVENTS, `each event delivered at least once, by webhook-id (${seen.acknowledged.size} of ${EVENTS})`);
  check(
    [...seen.failedOnPurpose].every((id) => seen.acknowledged.has(id)),
    "each event whose first attempt failed was delivered by a retry"
  );
  const ids = new Set(application.map((e) => `${e.sequence}`));
  check(application.length === EVENTS && ids.size === EVENTS, `the application got each event exactly once (${application.length} handed, ${ids.size} distinct)`);
  const perInteraction = new Map();
  for (const e of application) {
    const list = perInteraction.get(e.data.id) || [];
    list.push(e);
    perInteraction.set(e.data.id, list);
  }
  const inOrder = [...perInteraction.values()].every(
    (list) =>
      list.length === EVENTS_PER_INTERACTION &&
      list.every((e, k) => k === 0 || (e.sequence > list[k - 1].sequence && e.data.version > list[k - 1].data.version))
  );
  check(perInteraction.size === INTERACTIONS && inOrder, `each of the ${INTERACTIONS} interactions' ${EVENTS_PER_INTERACTION} events reached it in order`);
  const log = await api("GET", `/api/v2/webhooks/${created.id}/deliveries?pageSize=500`);
  check(log.entities.length > 0 && log.entities.every((a) => a.messageId), "the delivery log lists the attempts");
  console.log(`webhooks: ${7 - failures.length} checks passed, ${failures.length} failed`);
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
