import { randomBytes } from 'node:crypto';
import type { LoginNodeProblem } from '../contract/ops/container.js';
import { errorMessage } from '../errors.js';
import { withDeadline } from '../deadline.js';

/**
 * Ways a ComfyUI-Login that answers 401 to a plain anonymous request still does not protect
 * the API, each seen on the real server (see the reference `comfyui-real-server.md`):
 * - open: anonymous requests get 200 (no node, or it failed to import);
 * - no-password: no PASSWORD, so an empty `?token=` passes and the first visitor to /login sets it;
 * - no-token-support: a node from before Bearer support answers tokens with 302 to /login;
 * - cors-origin: `--enable-cors-header ORIGIN` makes the node check tokens only for that Origin,
 *   so a script's valid token gets 401.
 */
export type EnforcementProblem = Exclude<LoginNodeProblem, 'import-failed'>;

export interface Enforcement {
  /** true: enforced; false: not (problem says how); null: could not be determined. */
  value: boolean | null;
  /** One sentence, never a token. */
  detail: string;
  problem?: EnforcementProblem;
}

interface Answer {
  status: number;
  location: string | null;
  allowOrigin: string | null;
}

/** A bcrypt-shaped token no server holds: what a script with a wrong token sends. */
const DUMMY_TOKEN = `$2b$12$${'0'.repeat(53)}`;

async function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  // Accept JSON: with text/html ComfyUI-Login answers 302 to /login instead of 401.
  return withDeadline(timeoutMs, async (signal) => {
    const res = await fetch(url, { headers: { accept: 'application/json', ...headers }, redirect: 'manual', signal });
    await res.body?.cancel();
    return { status: res.status, location: res.headers.get('location'), allowOrigin: res.headers.get('access-control-allow-origin') };
  });
}

const toLogin = (a: Answer) => a.status >= 300 && a.status < 400 && /\/login(\?|$)/.test(a.location ?? '');

/**
 * Asks the server the three questions that tell "enforced" from "answers 401 once":
 * anonymous, an empty `?token=`, and a Bearer (the given token, else one nobody holds).
 */
export async function probeEnforcement(baseUrl: string, opts: { token?: string; timeoutMs: number }): Promise<Enforcement> {
  const url = `${baseUrl.replace(/\/+$/, '')}/system_stats`;
  let anon: Answer, empty: Answer, bearer: Answer;
  try {
    [anon, empty, bearer] = await Promise.all([
      get(url, {}, opts.timeoutMs),
      get(`${url}?token=`, {}, opts.timeoutMs),
      get(url, { authorization: `Bearer ${opts.token ?? DUMMY_TOKEN}` }, opts.timeoutMs),
    ]);
  } catch (e) {
    return { value: null, detail: `${url} did not answer: ${errorMessage(e)}` };
  }
  if (toLogin(bearer) || toLogin(anon)) {
    return {
      value: false,
      problem: 'no-token-support',
      detail: `this ComfyUI-Login version has no token support: it answers tokens with a redirect to /login (a GET ${url} with a Bearer token got ${bearer.status} to ${bearer.location ?? anon.location ?? '/login'})`,
    };
  }
  if (anon.status === 200) return { value: false, problem: 'open', detail: `an anonymous GET ${url} got 200: anyone who can reach the port can use ComfyUI` };
  if (anon.status !== 401) return { value: null, detail: `an anonymous GET ${url} got ${anon.status}, neither 401 nor 200` };
  if (empty.status === 200) {
    return { value: false, problem: 'no-password', detail: `no password is set: the first visitor to /login chooses it (GET ${url}?token= with an empty token got 200)` };
  }
  const origin = anon.allowOrigin;
  if (origin && origin !== '*') {
    const seen = opts.token && bearer.status === 401 ? ': the vault token got 401 without an Origin header' : '';
    return {
      value: false,
      problem: 'cors-origin',
      detail: `ComfyUI runs with --enable-cors-header ${origin}: ComfyUI-Login then checks tokens only on requests whose Origin is ${origin}, so scripts' tokens get 401${seen}`,
    };
  }
  return { value: true, detail: `an anonymous GET ${url} got 401, and so did an empty ?token=` };
}

export interface Exposure {
  /** true: anonymous user-data writes pass; false: refused; null: could not tell. */
  exposed: boolean | null;
  detail: string;
}

/**
 * ComfyUI-Login lets any path ending in .js/.css/.css.map/.ico through without a login, so
 * anonymous `POST /api/userdata/x.js` writes a file (and `user.css` is loaded by the front end).
 * Probed by reading a name that does not exist: a 401 means the node guards it, a 404 means the
 * request reached ComfyUI's user manager. Nothing is written.
 */
export async function probeUserdataExposure(baseUrl: string, timeoutMs: number): Promise<Exposure> {
  const base = `${baseUrl.replace(/\/+$/, '')}/api/userdata/`;
  const name = `comfy-panel-probe-${randomBytes(6).toString('hex')}`;
  let answers: Answer[];
  try {
    answers = await Promise.all(['js', 'css'].map((ext) => get(`${base}${name}.${ext}`, {}, timeoutMs)));
  } catch (e) {
    return { exposed: null, detail: `${base} did not answer: ${errorMessage(e)}` };
  }
  const passed = ['js', 'css'].filter((_, i) => answers[i]!.status !== 401 && !toLogin(answers[i]!));
  if (passed.length === 0) return { exposed: false, detail: 'anonymous requests for user-data .js and .css files get 401' };
  const statuses = answers.map((a) => a.status).join(' and ');
  if (answers.some((a) => a.status === 404 || a.status === 200)) {
    return {
      exposed: true,
      detail: `anonymous requests for user-data ${passed.map((e) => `*.${e}`).join(' and ')} files pass ComfyUI-Login (GET ${base}<new name>.js and .css got ${statuses}, not 401)`,
    };
  }
  return { exposed: null, detail: `anonymous GET ${base}<new name>.js and .css got ${statuses}, neither 401 nor 404` };
}
