// Errors keep their meaning across the contract: the core error's code and fix travel with it, and
// the fix names the app's pages and buttons (with the matching action) where the CLI's text names a command.
import { describe, expect, it } from 'vitest';
import { PanelError } from '../../app/errors.js';
import { DockerError } from '../../app/docker/problems.js';
import { REMEDIES } from '../../app/health/troubleshoot.js';
import { isOpName } from '../../app/contract/names.js';
import { toContractError } from '../../app/service/dispatch.js';
import { uiCheckFix, uiFix } from '../../app/service/ui-fixes.js';

describe('fix texts in the app', () => {
  it('replaces the CLI commands with the page and button, and offers the first one that has an action', () => {
    const ui = uiFix('Create one with `comfy-panel token init`, or adopt the running one with `comfy-panel token import --from-container`.');
    expect(ui.text).toBe("Create one with Create credential on the Tokens page, or adopt the running one with Import the running container's credential (Setup page, step 3).");
    expect(ui).toMatchObject({ action: 'tokenInit' });
    expect(uiFix('Run `comfy-panel token recover` first, then sync.')).toEqual({ text: 'Run Recover (the button below) first, then sync.', action: 'tokenRecover' });
    expect(uiFix('See `comfy-panel container logs` for why.')).toEqual({ text: "See the Container page's Logs for why." });
    // What it does not know stays as written, and a text without commands is unchanged.
    expect(uiFix('List the keys with `comfy-panel key list`.').text).toBe('List the keys with `comfy-panel key list`.');
    expect(uiFix('Start Docker Desktop.')).toEqual({ text: 'Start Docker Desktop.' });
  });

  it('no troubleshooting fix shows a panel CLI command in the app, and every offered action is an operation', () => {
    for (const [failure, remedy] of Object.entries(REMEDIES)) {
      const fix = uiCheckFix({ ...remedy.fix, failure });
      expect(fix.text, failure).not.toMatch(/`comfy-panel (token|container|env|health)\b/);
      if (fix.action) expect(isOpName(fix.action), `${failure}: ${fix.action}`).toBe(true);
    }
    // A check's own one-click action is kept; only its words change.
    expect(uiCheckFix({ text: 'Import it (or create one with `comfy-panel token init`).', action: 'tokenImport' })).toEqual({
      text: 'Import it (or create one with Create credential on the Tokens page).',
      action: 'tokenImport',
    });
  });
});

describe('the contract error', () => {
  it("carries the core error's code and its fix apart from the message, in the app's words", () => {
    const shape = toContractError(new PanelError('the vault holds no credential yet', 'no-credential', 'Create one with `comfy-panel token init`.'));
    expect(shape).toEqual({
      code: 'failed',
      message: 'the vault holds no credential yet',
      problem: { code: 'no-credential', fix: 'Create one with Create credential on the Tokens page.', action: 'tokenInit' },
    });
    const docker = toContractError(new DockerError({ kind: 'no-such-image', message: 'image x:1 is not on the engine', fix: 'Build it (`comfy-panel container build`), or fix container.image.' }));
    expect(docker.problem).toEqual({ code: 'docker-no-such-image', fix: 'Build it ("Build image" on the Container page), or fix container.image.', action: 'containerBuild' });
    expect(toContractError(new Error('boom'))).toEqual({ code: 'failed', message: 'boom' });
  });

  it('never lets a secret through the fix', () => {
    const hash = '$2b$12$abcdefghijklmnopqrstuv' + 'wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012';
    const shape = toContractError(new PanelError('rejected', 'token-rejected', `the token ${hash} was refused`));
    expect(JSON.stringify(shape)).not.toContain(hash);
  });
});
