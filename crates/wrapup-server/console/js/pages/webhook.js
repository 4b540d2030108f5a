// @ts-check
// One webhook endpoint's page: its delivery log, replay, resend and test (pages/webhooks.js).

export { renderOne as render } from './webhooks.js';
