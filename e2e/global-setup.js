// Starts `wrapup serve --demo` on 127.0.0.1 port 0 over a temporary SQLite database, reads
// its address from stderr ("wrapup listening on http://ADDR"), and hands it to the tests
// through WRAPUP_URL (workers inherit the environment). global-teardown.js stops it.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async function globalSetup() {
  if (process.env.WRAPUP_URL) return; // a server given from outside
  const bin = process.env.WRAPUP_BIN || path.resolve(__dirname, '../target/debug/wrapup');
  if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist: run cargo build -p wrapup first (or set WRAPUP_BIN)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrapup-console-e2e-'));
  const server = spawn(bin, [
    'serve', '--demo', '--listen', '127.0.0.1:0', '--db', `sqlite://${path.join(dir, 'e2e.db')}`,
    // Long enough to watch the countdown on screen, short enough to wait for.
    '--settle-ms', '3000',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`wrapup serve did not start in 60 s:\n${seen}`)), 60_000);
    server.stderr.on('data', (chunk) => {
      seen += chunk;
      const m = /wrapup listening on (http:\/\/[0-9.]+:[0-9]+)\s/.exec(seen); // the whole address
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`wrapup serve exited (${code}):\n${seen}`)));
  });
  server.stderr.resume();
  process.env.WRAPUP_URL = url;
  process.env.WRAPUP_E2E_PID = String(server.pid);
  process.env.WRAPUP_E2E_DIR = dir;
  globalThis.__wrapupServer = server;
  console.log(`wrapup serve --demo at ${url} (pid ${server.pid})`);
};
