// @ts-check
// API reference: the served OpenAPI document rendered by the vendored Swagger UI
// (console/vendor/swagger-ui, see its README), loaded from this server only. "Try it out"
// sends requests to this origin with the signed-in token; the validator badge (which
// would call another origin) is off.

import { api, describeError } from '../api.js';
import { session } from '../session.js';
import { fill, h } from '../ui.js';

/**
 * The part of Swagger UI's request that the interceptor changes.
 * @typedef {{url: string, headers: Record<string, string>}} SwaggerRequest
 */

/**
 * Swagger UI's entry point, as this page calls it.
 * @typedef {(options: {
 *   spec: unknown,
 *   domNode: HTMLElement,
 *   requestInterceptor: (request: SwaggerRequest) => SwaggerRequest,
 *   [option: string]: unknown,
 * }) => unknown} SwaggerUIBundle
 */

const base = new URL('../../vendor/swagger-ui/', import.meta.url);
/** @type {Promise<SwaggerUIBundle> | null} */
let loading = null;

/**
 * Loads the Swagger UI bundle (a classic script: it defines window.SwaggerUIBundle) once.
 * @returns {Promise<SwaggerUIBundle>}
 */
function loadBundle() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      document.head.append(h('link', { rel: 'stylesheet', href: new URL('swagger-ui.css', base).href }));
      const script = h('script', { src: new URL('swagger-ui-bundle.js', base).href });
      script.addEventListener('load', () =>
        resolve(/** @type {{SwaggerUIBundle: SwaggerUIBundle}} */ (/** @type {unknown} */ (window)).SwaggerUIBundle),
      );
      script.addEventListener('error', () => reject(new Error('the Swagger UI bundle did not load')));
      document.head.append(script);
    });
  }
  return loading;
}

/** @param {HTMLElement} main */
export async function render(main) {
  const host = h('div', { id: 'swagger', class: 'reference-host' });
  fill(
    main,
    h('h1', {}, 'API reference'),
    h(
      'p',
      { class: 'muted' },
      'The OpenAPI document this server serves (GET /api/v2/openapi.json). "Try it out" sends real requests to this server with your token; they appear in the request log.',
    ),
    host,
  );
  try {
    const [SwaggerUIBundle, spec] = await Promise.all([loadBundle(), api('/api/v2/openapi.json')]);
    // Requests go to this server, whatever address the document names.
    spec.servers = [{ url: location.origin, description: 'this server' }];
    SwaggerUIBundle({
      spec,
      domNode: host,
      deepLinking: false,
      validatorUrl: null,
      queryConfigEnabled: false,
      tryItOutEnabled: false,
      displayRequestDuration: true,
      defaultModelsExpandDepth: 0,
      requestInterceptor: (request) => {
        const s = session();
        if (s && !request.url.endsWith('/oauth/token')) request.headers.Authorization = `Bearer ${s.token}`;
        return request;
      },
    });
  } catch (e) {
    fill(host, h('p', { class: 'notice bad' }, `The reference could not be shown: ${describeError(e)}`));
  }
}
