#!/usr/bin/env node
// The `wrapup` command of the npm package: runs the binary of this platform's package
// (@wrapup-sandbox/<platform>) with the same arguments, standard streams and exit status.
"use strict";
const { spawnSync } = require("node:child_process");
const { binaryPath } = require("../index.js");

const result = spawnSync(binaryPath(), process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  console.error(`wrapup: ${result.error.message}`);
  process.exit(1);
}
if (result.signal) {
  process.kill(process.pid, result.signal);
}
process.exit(result.status ?? 1);
