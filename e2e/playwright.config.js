// Playwright drives Debian's chromium (/usr/bin/chromium, installed by .ci/console; never
// `playwright install`, which downloads a browser) against one real `wrapup serve --demo`
// on a temporary database, started by global-setup.js. The tests share that server (its
// fault switch, its request log), so they run one at a time, in file order.

const { defineConfig } = require('@playwright/test');

module.exports = defineConfig({
  testDir: './tests',
  globalSetup: require.resolve('./global-setup.js'),
  globalTeardown: require.resolve('./global-teardown.js'),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: process.env.WRAPUP_E2E_OUTPUT || '../target/ci/console-e2e/results',
  use: {
    baseURL: process.env.WRAPUP_URL,
    viewport: { width: 1280, height: 720 },
    colorScheme: 'light',
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
