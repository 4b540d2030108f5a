// Stops the server global-setup.js started and removes its database.

const fs = require('node:fs');

module.exports = async function globalTeardown() {
  const server = globalThis.__wrapupServer;
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.on('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (process.env.WRAPUP_E2E_DIR) fs.rmSync(process.env.WRAPUP_E2E_DIR, { recursive: true, force: true });
};
