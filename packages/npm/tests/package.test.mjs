// The rest of what the npm package promises: the version is the workspace's, the `wrapup`
// command runs the platform package's binary, options reach the server, a server on the real
// clock refuses an advance, and two servers get two ports.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { test } from "node:test";
import { WrapupApiError, binaryPath, startWrapup } from "wrapup-sandbox";

const require = createRequire(import.meta.url);

test("the packages carry the workspace's version", () => {
  const expected = process.env.WRAPUP_EXPECTED_VERSION;
  assert.ok(expected);
  assert.equal(require("wrapup-sandbox/package.json").version, expected);
  assert.equal(require(`@wrapup-sandbox/${process.platform}-${process.arch}/package.json`).version, expected);
  assert.equal(execFileSync(binaryPath(), ["--version"], { encoding: "utf8" }).trim(), `wrapup ${expected}`);
  // The package's `wrapup` command (node_modules/.bin/wrapup) runs the same binary.
  assert.equal(execFileSync("npx", ["--no-install", "wrapup", "--version"], { encoding: "utf8" }).trim(), `wrapup ${expected}`);
});

test("helpers without demo data, two servers on two ports", async () => {
  const a = await startWrapup({ demo: false, settleMs: 60_000 });
  const b = await startWrapup();
  try {
    assert.notEqual(a.url, b.url);
    const division = await a.createDivision("Only here");
    const code = await a.createCode(division.id, "Sale");
    const ready = await a.readyInteraction(division.id, "email");
    assert.equal(ready.finalized, true);
    await a.applyWrapup(ready.id, code.id, { durationMs: 90_000, notes: "done" });
    assert.equal((await a.getWrapup(ready.id)).codeId, code.id);
    const names = (await b.request("GET", "/api/v2/authorization/divisions")).entities.map((d) => d.name);
    assert.ok(!names.includes("Only here"));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test("a server on the real clock refuses an advance; chaos reaches the server", async () => {
  const real = await startWrapup({ clock: "system", chaos: "503=100%" });
  try {
    await assert.rejects(real.advance(1000), (e) => e instanceof WrapupApiError && e.code === "service.unavailable");
    await real.request("PUT", "/api/v2/admin/chaos", { spec: "off" });
    assert.equal((await real.now()).manual, false);
    await assert.rejects(real.advance(1000), (e) => e instanceof WrapupApiError && e.status === 409 && e.code === "clock.not.manual");
  } finally {
    await real.stop();
  }
});
