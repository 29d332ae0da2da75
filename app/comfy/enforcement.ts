import { randomBytes } from 'node:crypto';
import type { LoginNodeProblem } from '../contract/ops/container.js';
import { errorMessage } from '../errors.js';
import { probeGet, type ProbeAnswer } from './probe-get.js';

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

/** What the enforcement questions read of an answer. */
export interface EnforcementAnswer {
  status: number;
  location: string | null;
  allowOrigin: string | null;
}

/** The three questions: anonymous, an empty `?token=`, and a Bearer. */
export type EnforcementQuestion = 'anonymous' | 'empty-token' | 'bearer';

/** A bcrypt-shaped token no server holds: what a script with a wrong token sends. */
const DUMMY_TOKEN = `$2b$12$${'0'.repeat(53)}`;

/**
 * The request each question is, a GET /system_stats; the Bearer is `token` (SECRET), else one
 * nobody holds. A sweep asks these once and lets its token probes and stats read the same answers.
 */
export function enforcementRequest(baseUrl: string, question: EnforcementQuestion, token?: string): { url: string; headers: Record<string, string> } {
  const url = `${baseUrl.replace(/\/+$/, '')}/system_stats`;
  // Accept JSON: with text/html ComfyUI-Login answers 302 to /login instead of 401.
  const headers = { accept: 'application/json' };
  if (question === 'empty-token') return { url: `${url}?token=`, headers };
  if (question === 'bearer') return { url, headers: { ...headers, authorization: `Bearer ${token ?? DUMMY_TOKEN}` } };
  return { url, headers };
}

export const enforcementAnswer = (res: ProbeAnswer): EnforcementAnswer => ({ status: res.status, location: res.header('location'), allowOrigin: res.header('access-control-allow-origin') });

async function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<EnforcementAnswer> {
  return enforcementAnswer(await probeGet(url, { headers, timeoutMs }));
}

const toLogin = (a: EnforcementAnswer) => a.status >= 300 && a.status < 400 && /\/login(\?|$)/.test(a.location ?? '');

/**
 * Asks the server the three questions that tell "enforced" from "answers 401 once":
 * anonymous, an empty `?token=`, and a Bearer (the given token, else one nobody holds).
 * `answer` (a sweep's) answers them from requests it shares; by default each is asked here.
 */
export async function probeEnforcement(
  baseUrl: string,
  opts: { token?: string; timeoutMs: number; answer?: (question: EnforcementQuestion) => Promise<EnforcementAnswer> },
): Promise<Enforcement> {
  const url = `${baseUrl.replace(/\/+$/, '')}/system_stats`;
  const answer =
    opts.answer ??
    ((question: EnforcementQuestion) => {
      const r = enforcementRequest(baseUrl, question, opts.token);
      return get(r.url, r.headers, opts.timeoutMs);
    });
  let anon: EnforcementAnswer, empty: EnforcementAnswer, bearer: EnforcementAnswer;
  try {
    [anon, empty, bearer] = await Promise.all([answer('anonymous'), answer('empty-token'), answer('bearer')]);
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
  let answers: EnforcementAnswer[];
  try {
    answers = await Promise.all(['js', 'css'].map((ext) => get(`${base}${name}.${ext}`, { accept: 'application/json' }, timeoutMs)));
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
