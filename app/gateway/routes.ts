/**
 * Which scope each ComfyUI route needs, from the routes ComfyUI 0.3.64 registers (server.py,
 * app/user_manager.py, app/app_settings.py, app/model_manager.py, app/custom_node_manager.py,
 * app/subgraph_manager.py, the /internal sub-app) and ComfyUI-Login's own. Every route is also
 * served under /api. Deny by default: a route not named here (a custom node's, e.g.
 * ComfyUI-Manager's) needs `admin`. The table is in README.md, section Gateway.
 */
import type { ProxyScope } from './keys.js';

/**
 * `special` routes need more than a scope: `interrupt` and `queue-edit` are allowed to a
 * generate key only for its own prompts; `prompt` is attributed, limited and drained.
 */
export type Special = 'prompt' | 'interrupt' | 'queue-edit' | 'ws';

export type RouteRule =
  | { kind: 'proxy'; scope: ProxyScope; special?: Special }
  /** ComfyUI-Login's /login and /logout: never forwarded (the gateway has its own sign-in). */
  | { kind: 'login-node' };

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

interface Entry {
  method: Method | 'ANY';
  path: RegExp;
  rule: RouteRule;
}

const p = (scope: ProxyScope, special?: Special): RouteRule => ({ kind: 'proxy', scope, ...(special ? { special } : {}) });

/** Static files of ComfyUI's front end (web root, /extensions, /templates, /docs). */
const STATIC_FILE = /\.(js|mjs|css|map|html|json|png|jpe?g|webp|gif|svg|ico|woff2?|ttf|otf|wasm|txt|md|mp3|mp4|webm)$/i;

/** A userdata file path as the front end saves workflows: workflows/<name>.json (percent-encoded in the route). */
function workflowFile(encoded: string): boolean {
  let file: string;
  try {
    file = decodeURIComponent(encoded);
  } catch {
    return false;
  }
  return /^workflows\/[^\\]+\.json$/.test(file) && !file.split('/').includes('..');
}

const TABLE: Entry[] = [
  // read: status and history
  { method: 'GET', path: /^\/system_stats$/, rule: p('read') },
  { method: 'GET', path: /^\/features$/, rule: p('read') },
  { method: 'GET', path: /^\/prompt$/, rule: p('read') },
  { method: 'GET', path: /^\/queue$/, rule: p('read') },
  { method: 'GET', path: /^\/history$/, rule: p('read') },
  { method: 'GET', path: /^\/history\/[^/]+$/, rule: p('read') },
  // generate: run prompts and what a client (or ComfyUI's own front end) needs to build them
  { method: 'GET', path: /^\/ws$/, rule: p('generate', 'ws') },
  { method: 'POST', path: /^\/prompt$/, rule: p('generate', 'prompt') },
  { method: 'POST', path: /^\/interrupt$/, rule: p('generate', 'interrupt') },
  { method: 'POST', path: /^\/queue$/, rule: p('generate', 'queue-edit') },
  { method: 'GET', path: /^\/view$/, rule: p('generate') },
  { method: 'GET', path: /^\/view_metadata\/[^/]+$/, rule: p('generate') },
  { method: 'POST', path: /^\/upload\/(image|mask)$/, rule: p('generate') },
  { method: 'GET', path: /^\/object_info(\/[^/]+)?$/, rule: p('generate') },
  { method: 'GET', path: /^\/(embeddings|extensions|models)$/, rule: p('generate') },
  { method: 'GET', path: /^\/models\/[^/]+$/, rule: p('generate') },
  { method: 'GET', path: /^\/experiment\/models(\/.*)?$/, rule: p('generate') },
  { method: 'GET', path: /^\/(workflow_templates|i18n)$/, rule: p('generate') },
  { method: 'GET', path: /^\/global_subgraphs(\/[^/]+)?$/, rule: p('generate') },
  { method: 'GET', path: /^\/users$/, rule: p('generate') },
  { method: 'GET', path: /^\/settings(\/[^/]+)?$/, rule: p('generate') },
  { method: 'POST', path: /^\/settings(\/[^/]+)?$/, rule: p('generate') },
  { method: 'GET', path: /^\/userdata$/, rule: p('generate') },
  { method: 'GET', path: /^\/v2\/userdata$/, rule: p('generate') },
  { method: 'GET', path: /^\/userdata\/[^/]+$/, rule: p('generate') },
  { method: 'GET', path: /^\/$/, rule: p('generate') },
  // ComfyUI-Login's form: the gateway signs people in itself, so these never reach ComfyUI
  { method: 'ANY', path: /^\/(login|logout)$/, rule: { kind: 'login-node' } },
];

/** POST/DELETE /userdata/{file} and .../move/{dest}: generate only for workflow files, else admin. */
function userdataWrite(method: string, route: string): RouteRule | undefined {
  const move = /^\/userdata\/([^/]+)\/move\/([^/]+)$/.exec(route);
  if (move && method === 'POST') return workflowFile(move[1]!) && workflowFile(move[2]!) ? p('generate') : p('admin');
  const file = /^\/userdata\/([^/]+)$/.exec(route);
  if (file && (method === 'POST' || method === 'DELETE')) return workflowFile(file[1]!) ? p('generate') : p('admin');
  return undefined;
}

/** The path without ComfyUI's /api mirror prefix. */
export function routeOf(pathname: string): string {
  return pathname === '/api' ? '/' : pathname.startsWith('/api/') ? pathname.slice(4) : pathname;
}

/** The rule for a request; `pathname` as received (raw, percent-encoding kept). */
export function ruleFor(method: string, pathname: string): RouteRule {
  const route = routeOf(pathname);
  const m = method === 'HEAD' ? 'GET' : method;
  const write = userdataWrite(m, route);
  if (write) return write;
  for (const e of TABLE) if ((e.method === 'ANY' || e.method === m) && e.path.test(route)) return e.rule;
  // The front end's static files (web root, /extensions/<node>/, /templates, /docs); never the API names above.
  if (m === 'GET' && STATIC_FILE.test(route) && !route.startsWith('/internal/') && !route.startsWith('/userdata')) return p('generate');
  return p('admin');
}
