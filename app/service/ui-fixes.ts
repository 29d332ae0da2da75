import type { OpName } from '../contract/index.js';
import type { CheckFix, CheckResult } from '../contract/ops/health.js';

interface UiPhrase {
  /** The CLI command as fix texts write it, between backticks (the `comfy-panel ` prefix optional). */
  command: RegExp;
  /** What the operator does in the app instead. */
  text: string;
  /** The operation that does it, offered as a button next to the fix (it asks first where it restarts or rewrites). */
  action?: OpName;
  input?: Record<string, string | number | boolean>;
}

/**
 * The app's words for the CLI commands the core's fix texts name: errors and check fixes are
 * written once, for the CLI, and shown in the app with the page and button that do the same.
 * More specific commands come first.
 */
const PHRASES: readonly UiPhrase[] = [
  { command: /^token init --force$/, text: 'Create credential on the Tokens page (it replaces the current one)', action: 'tokenInit', input: { force: true } },
  { command: /^token init$/, text: 'Create credential on the Tokens page', action: 'tokenInit' },
  { command: /^token import( --from-container)?$/, text: "Import the running container's credential (Setup page, step 3)", action: 'tokenImport', input: { from: 'container' } },
  { command: /^token rotate$/, text: 'Rotate now on the Tokens page', action: 'tokenRotate' },
  { command: /^token recover$/, text: 'Recover (the button below)', action: 'tokenRecover' },
  { command: /^token unify\b/, text: '"Use this one everywhere" on the Tokens page' },
  { command: /^token audit$/, text: 'the Tokens page (it lists the token each location holds)' },
  { command: /^container logs\b/, text: "the Container page's Logs" },
  { command: /^container recreate\b/, text: '"Recreate to apply" on the Container page', action: 'containerRecreate' },
  { command: /^container build$/, text: '"Build image" on the Container page', action: 'containerBuild' },
  { command: /^container (up|start)$/, text: '"Start" on the Container page', action: 'containerStart' },
  { command: /^container adopt$/, text: '"Compare with configuration" on the Container page', action: 'containerAdopt' },
  { command: /^env sync$/, text: 'the Sync tab of the Env files page (Preview sync, then Apply)' },
  { command: /^env audit\b/, text: 'the Findings tab of the Env files page' },
  { command: /^health( run)?$/, text: '"Run all checks now" on the Dashboard', action: 'healthRun' },
];

const BACKTICKED = /`(?:comfy-panel )?((?:token|container|env|health)\b[^`]*)`/g;

export interface UiFix {
  text: string;
  action?: OpName;
  input?: Record<string, string | number | boolean>;
}

/** A fix text as the app says it: CLI commands replaced by the app's actions, the first actionable one offered. */
export function uiFix(text: string): UiFix {
  let offered: UiPhrase | undefined;
  const out = text.replace(BACKTICKED, (whole, command: string) => {
    const phrase = PHRASES.find((p) => p.command.test(command.trim()));
    if (!phrase) return whole;
    if (!offered && phrase.action) offered = phrase;
    return phrase.text;
  });
  return { text: out, ...(offered?.action ? { action: offered.action } : {}), ...(offered?.input ? { input: offered.input } : {}) };
}

/** A check's fix as the app shows it; a fix that names its own action keeps it. */
export function uiCheckFix(fix: CheckFix): CheckFix {
  const ui = uiFix(fix.text);
  if (ui.text === fix.text) return fix;
  return fix.action ? { ...fix, text: ui.text } : { ...fix, ...ui };
}

export function uiCheckResult<R extends CheckResult>(result: R): R {
  return result.fix ? { ...result, fix: uiCheckFix(result.fix) } : result;
}
