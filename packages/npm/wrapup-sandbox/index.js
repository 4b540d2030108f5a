// wrapup for tests: `startWrapup()` starts a wrapup server on a free port over a temporary
// database and gives back its URL, credentials, a test clock and helpers; `stop()` ends it and
// removes its files. The server never outlives this process: its stdin is a pipe only this
// process holds, and it shuts down when that pipe closes (`--exit-on-stdin-eof`), however
// this process ends. No dependencies; see docs/testing.md in the wrapup repository.
"use strict";

const { spawn, execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

/** Every scope an OAuth client can have. */
const ALL_SCOPES = Object.freeze([
  "interaction:view",
  "interaction:write",
  "interaction:manage",
  "wrapup-code:view",
  "wrapup-code:manage",
  "admin",
]);

/** The fixed ids and credentials of the demo organisation (`wrapup serve --demo`). */
const DEMO = Object.freeze({
  clientId: "00000000-0000-4000-8000-00000000d001",
  clientSecret: "demo-secret-not-for-production",
  viewerClientId: "00000000-0000-4000-8000-00000000d002",
  viewerClientSecret: "viewer-secret-not-for-production",
  sales: "00000000-0000-4000-8000-0000000000a1",
  support: "00000000-0000-4000-8000-0000000000a2",
  codeSale: "00000000-0000-4000-8000-0000000000c1",
  codeCallback: "00000000-0000-4000-8000-0000000000c2",
  codeNoSale: "00000000-0000-4000-8000-0000000000c3",
  codeLegacy: "00000000-0000-4000-8000-0000000000c4",
  codeResolved: "00000000-0000-4000-8000-0000000000c5",
  codeEscalated: "00000000-0000-4000-8000-0000000000c6",
});

/** A non-2xx answer of the server. */
class WrapupApiError extends Error {
  constructor(method, apiPath, status, body) {
    const code = body && typeof body === "object" ? body.code : undefined;
    const message = body && typeof body === "object" ? body.message : body;
    super(`${method} ${apiPath} -> ${status} ${code ?? ""}: ${message}`);
    this.name = "WrapupApiError";
    this.method = method;
    this.path = apiPath;
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/**
 * The `wrapup` binary: $WRAPUP_BIN, else the one of this platform's package
 * (@wrapup-sandbox/<platform>-<arch>).
 */
function binaryPath() {
  if (process.env.WRAPUP_BIN) return process.env.WRAPUP_BIN;
  const platform = `${process.platform}-${process.arch}`;
  const exe = process.platform === "win32" ? "wrapup.exe" : "wrapup";
  let dir;
  try {
    dir = path.dirname(require.resolve(`@wrapup-sandbox/${platform}/package.json`));
  } catch {
    throw new Error(
      `wrapup-sandbox has no binary for ${platform}: its package @wrapup-sandbox/${platform} is not installed ` +
        "(install with optional dependencies, or set WRAPUP_BIN to a wrapup binary)",
    );
  }
  const bin = path.join(dir, "bin", exe);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    fs.chmodSync(bin, 0o755); // a package manager that dropped the executable bit
  }
  return bin;
}

const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Whatever was not stopped: its stdin closes with this process anyway; this also removes
  // its files.
  process.on("exit", () => {
    for (const server of live) server._kill();
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function run(file, args, env) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(file)} ${args.join(" ")}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

class WrapupServer {
  constructor(options) {
    this.options = options;
    this.settleMs = options.settleMs ?? 1500;
    this.clock = options.clock ?? "manual";
    this.url = "";
    this.clientId = options.demo === false ? "" : DEMO.clientId;
    this.clientSecret = options.demo === false ? "" : DEMO.clientSecret;
    this.pid = undefined;
    this.dir = "";
    this._child = undefined;
    this._exited = undefined;
    this._token = undefined;
  }

  get databasePath() {
    return path.join(this.dir, "wrapup.db");
  }

  get logPath() {
    return path.join(this.dir, "server.log");
  }

  /** What the server wrote on stderr so far. */
  log() {
    try {
      return fs.readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  async _start() {
    const o = this.options;
    if (this.clock !== "manual" && this.clock !== "system") {
      throw new Error(`clock must be "manual" or "system", not ${JSON.stringify(this.clock)}`);
    }
    const bin = o.binary ?? binaryPath();
    const env = { ...process.env, WRAPUP_LOG: o.log ?? "warn", ...(o.env ?? {}) };
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "wrapup-sandbox-"));
    const db = `sqlite://${this.databasePath}`;
    if (o.demo === false) {
      const out = await run(
        bin,
        ["--json", "clients", "create", "--db", db, "--name", "wrapup-sandbox", "--scopes", ALL_SCOPES.join(" "), "--divisions", "all"],
        env,
      );
      const created = JSON.parse(out);
      this.clientId = created.clientId;
      this.clientSecret = created.clientSecret;
    }
    const args = ["serve", "--listen", "127.0.0.1:0", "--db", db, "--ready-file", path.join(this.dir, "ready"), "--exit-on-stdin-eof"];
    args.push("--settle-ms", String(this.settleMs), "--clock", this.clock);
    if (o.demo !== false) args.push("--demo");
    if (o.chaos) args.push("--chaos", o.chaos);
    if (o.rateLimit) args.push("--rate-limit", o.rateLimit);
    if (o.webhooksAllowPrivate) args.push("--webhooks-allow-private");
    if (o.webhooksRetrySchedule) args.push("--webhooks-retry-schedule", o.webhooksRetrySchedule);
    args.push(...(o.extraArgs ?? []));
    const log = fs.openSync(this.logPath, "w");
    // stdin: a pipe only this process holds (see the top of this file).
    const child = spawn(bin, args, { stdio: ["pipe", "ignore", log], env });
    fs.closeSync(log);
    this._child = child;
    this.pid = child.pid;
    this._exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    let spawnError;
    child.once("error", (e) => {
      spawnError = e;
    });
    // A test runner that forgets stop() still exits: nothing here keeps its event loop alive.
    child.unref();
    child.stdin.unref?.();
    live.add(this);
    installExitHook();
    const ready = path.join(this.dir, "ready");
    const deadline = Date.now() + (o.startupTimeoutMs ?? 60_000);
    let pause = 5;
    let exited = false;
    this._exited.then(() => {
      exited = true;
    });
    while (!fs.existsSync(ready)) {
      if (spawnError || exited) {
        const log = this.log();
        await this.stop();
        throw new Error(`wrapup serve did not start (${spawnError ? spawnError.message : "it exited"}):\n${log}`);
      }
      if (Date.now() > deadline) {
        const log = this.log();
        await this.stop();
        throw new Error(`wrapup serve did not listen within ${o.startupTimeoutMs ?? 60_000} ms:\n${log}`);
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
    this.url = fs.readFileSync(ready, "utf8").trim();
    return this;
  }

  /** Stops the server (closing its stdin: a graceful shutdown; SIGKILL after `timeoutMs`) and removes its files. */
  async stop(timeoutMs = 15_000) {
    const child = this._child;
    this._child = undefined;
    live.delete(this);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      let timer;
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      if ((await Promise.race([this._exited, timedOut])) === "timeout") {
        child.kill("SIGKILL");
        await this._exited;
      }
      clearTimeout(timer);
    }
    this._removeFiles();
  }

  _kill() {
    if (this._child && this._child.exitCode === null) this._child.kill("SIGKILL");
    this._child = undefined;
    this._removeFiles();
  }

  _removeFiles() {
    if (this.dir) {
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.dir = "";
    }
  }

  /** An access token (client credentials); the server's own client's is cached. */
  async token(clientId, clientSecret) {
    const own = clientId === undefined;
    if (own && this._token) return this._token;
    const response = await fetch(`${this.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId ?? this.clientId,
        client_secret: clientSecret ?? this.clientSecret,
      }),
    });
    const body = await response.json();
    if (!response.ok) throw new WrapupApiError("POST", "/oauth/token", response.status, body);
    if (own) this._token = body.access_token;
    return body.access_token;
  }

  /**
   * One request to the API with the server's client's token (renewed once if the clock has
   * expired it); the parsed answer, or a WrapupApiError.
   */
  async request(method, apiPath, body, token) {
    for (let attempt = 1; ; attempt++) {
      const headers = { authorization: `Bearer ${token ?? (await this.token())}`, accept: "application/json" };
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(this.url + apiPath, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let answer;
      try {
        answer = text ? JSON.parse(text) : undefined;
      } catch {
        answer = text;
      }
      if (response.status === 401 && token === undefined && attempt === 1) {
        this._token = undefined;
        continue;
      }
      if (!response.ok) throw new WrapupApiError(method, apiPath, response.status, answer);
      return answer;
    }
  }

  /** The server's time: `{now, nowMs, manual}`. */
  now() {
    return this.request("GET", "/api/v2/admin/clock");
  }

  /** Moves the test clock forward; every interaction whose settle time passed is finalized when it resolves. */
  async advance(ms) {
    return (await this.request("POST", "/api/v2/admin/clock/advance", { ms })).nowMs;
  }

  createDivision(name) {
    return this.request("POST", "/api/v2/authorization/divisions", { name });
  }

  createCode(divisionId, name, description) {
    return this.request("POST", "/api/v2/routing/wrapupcodes", { name, divisionId, ...(description === undefined ? {} : { description }) });
  }

  createClient({ name = "test", scopes = ALL_SCOPES, divisions = "all" } = {}) {
    return this.request("POST", "/api/v2/oauth/clients", { name, scopes: [...scopes], divisions });
  }

  createInteraction(divisionId, channel = "voice") {
    return this.request("POST", "/api/v2/interactions", { divisionId, channel });
  }

  getInteraction(id) {
    return this.request("GET", `/api/v2/interactions/${id}`);
  }

  setState(id, state) {
    return this.request("POST", `/api/v2/interactions/${id}/state`, { state });
  }

  activate(id) {
    return this.setState(id, "active");
  }

  close(id) {
    return this.setState(id, "closed");
  }

  /** Passes a closed interaction's settle time by advancing the clock; the interaction, finalized. */
  async settle(id) {
    await this.advance(this.settleMs);
    return this.getInteraction(id);
  }

  /** A new interaction, activated, closed and settled: ready for its wrap-up. */
  async readyInteraction(divisionId, channel = "voice") {
    const { id } = await this.createInteraction(divisionId, channel);
    await this.activate(id);
    await this.close(id);
    return this.settle(id);
  }

  applyWrapup(id, codeId, { durationMs = 60_000, notes } = {}) {
    return this.request("PUT", `/api/v2/interactions/${id}/wrap-up`, { codeId, durationMs, ...(notes === undefined ? {} : { notes }) });
  }

  getWrapup(id) {
    return this.request("GET", `/api/v2/interactions/${id}/wrap-up`);
  }
}

/** Starts a wrapup server and resolves once it listens. */
function startWrapup(options = {}) {
  return new WrapupServer(options)._start();
}

module.exports = { startWrapup, WrapupServer, WrapupApiError, binaryPath, DEMO, ALL_SCOPES };
