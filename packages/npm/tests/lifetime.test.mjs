// A server started by startWrapup() never outlives the process that started it: a Node
// process starts one and is killed with SIGKILL (no teardown, no exit hook); the server,
// whose stdin was a pipe only that process held, sees it close and exits. Checked by
// waiting on its pid, bounded.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { test } from "node:test";

const HOLDER = `
const { startWrapup } = require("wrapup-sandbox");
startWrapup().then((s) => { console.log(s.pid, s.url, s.dir); setInterval(() => {}, 1000); });
`;

function gone(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    // A zombie (exited, not yet reaped by its new parent) counts as gone.
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop().trim().split(" ")[0] === "Z";
  } catch {
    return true;
  }
}

test("SIGKILL of the process that started a server leaves no server", async () => {
  const holder = spawn(process.execPath, ["-e", HOLDER], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = await Promise.race([
    new Promise((resolve) => createInterface({ input: holder.stdout }).once("line", (l) => resolve([l]))),
    new Promise((_, reject) => setTimeout(() => reject(new Error("the holder did not start its server within 60 s")), 60_000).unref()),
  ]);
  const [pidText, url, serverDir] = line.split(" ");
  const pid = Number(pidText);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(gone(pid), false);
  const exited = new Promise((resolve) => holder.once("exit", resolve));
  holder.kill("SIGKILL");
  await exited;
  const deadline = Date.now() + 30_000;
  while (!gone(pid)) {
    assert.ok(Date.now() < deadline, `wrapup serve (pid ${pid}) outlived its killed parent by 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Nothing removed its temporary folder (docs/testing.md says so): this test does.
  rmSync(serverDir, { recursive: true, force: true });
});
