// startWrapup() with the official Genesys Cloud JavaScript SDK (purecloud-platform-client-v2),
// as a project's own node:test suite would use it: a token, a wrap-up refused while the
// conversation is connected, and one accepted after the close, the settle time passed by
// advancing the test clock rather than sleeping. Run by .ci/packages in a fresh npm project
// where only the built packages and the SDK are installed (no Rust, no checkout).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import platformClient from "purecloud-platform-client-v2";
import { DEMO, startWrapup } from "wrapup-sandbox";

let server;
let conversations;

before(async () => {
  server = await startWrapup();
  const url = new URL(server.url);
  const client = platformClient.ApiClient.instance;
  // The gateway setting points the SDK at another server (docs/genesys.md).
  client.setGateway({ host: url.hostname, protocol: "http", port: Number(url.port) });
  await client.loginClientCredentialsGrant(server.clientId, server.clientSecret);
  conversations = new platformClient.ConversationsApi();
});

after(() => server.stop());

// The SDK rejects with the parsed ErrorBody when the server answers with one.
async function refusal(promise) {
  try {
    await promise;
  } catch (body) {
    if (body instanceof Error) throw body;
    return body;
  }
  assert.fail("the request was accepted");
}

test("a token through the SDK", () => {
  assert.ok(platformClient.ApiClient.instance.authData.accessToken);
});

test("a wrap-up is refused while connected and accepted after close", async () => {
  const interaction = await server.createInteraction(DEMO.sales, "voice");
  await server.activate(interaction.id);
  const conversation = await conversations.getConversation(interaction.id);
  const agent = conversation.participants.find((p) => p.purpose === "agent");
  const call = agent.calls[0];
  assert.equal(call.state, "connected");

  const early = await refusal(
    conversations.postConversationsCallParticipantCommunicationWrapup(interaction.id, agent.id, call.id, {
      body: { code: DEMO.codeSale, notes: "too early" },
    }),
  );
  assert.equal(early.status, 400);
  assert.match(early.message, /closed/i);

  await server.close(interaction.id);
  assert.equal((await server.getInteraction(interaction.id)).finalized, false);
  const started = Date.now();
  const settled = await server.settle(interaction.id); // advances the clock by settleMs
  assert.equal(settled.finalized, true);
  assert.ok(Date.now() - started < server.settleMs, "the settle time passed without waiting");

  await conversations.postConversationsCallParticipantCommunicationWrapup(interaction.id, agent.id, call.id, {
    body: { code: DEMO.codeSale, notes: "after close" },
  });
  const applied = await conversations.getConversationParticipantWrapup(interaction.id, agent.id);
  assert.equal(applied.code, DEMO.codeSale);
  assert.equal(applied.notes, "after close");
});
