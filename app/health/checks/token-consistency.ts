import type { LocationAudit } from '../../contract/ops/tokens.js';
import { fail, ok, unknown, type HealthCheck } from '../check.js';
import { fixFor } from '../troubleshoot.js';

const WRONG: readonly LocationAudit['status'][] = ['stale', 'mismatch', 'missing', 'malformed'];

const describe = (l: LocationAudit) => `${l.name} ${l.status}${l.fingerprint ? ` (${l.fingerprint})` : ''}${l.detail ? `: ${l.detail}` : ''}`;

/** Every configured copy of the token (container PASSWORD, secret file, env targets) equals the vault's. */
export const tokenConsistencyCheck: HealthCheck = {
  id: 'token-consistency',
  title: 'Token copies agree',
  async run(ctx) {
    const audit = await ctx.tokenAudit();
    if (!audit.vault.present || !audit.vault.fingerprint) {
      return unknown('the panel holds no credential yet, so there is nothing to compare with', fixFor('no-credential', { input: { from: 'container' } }));
    }
    // The container's copy cannot be read while the container is absent or the engine down: the container checks own that.
    const containerDown = await ctx.containerUnavailable();
    const judged = audit.locations.filter((l) => !(l.name === 'container' && containerDown && l.status !== 'match'));
    const wrong = judged.filter((l) => WRONG.includes(l.status));
    if (wrong.length) {
      return fail(`${wrong.map(describe).join(', ')}; the vault holds ${audit.vault.fingerprint}`, fixFor('token-mismatch', { input: { to: audit.vault.fingerprint } }));
    }
    const unread = audit.locations.filter((l) => !judged.includes(l) || l.status === 'unreadable');
    if (unread.length) return unknown(`could not read ${unread.map((l) => `${l.name}${l.detail ? ` (${l.detail})` : ''}`).join(', ')}`);
    return ok(`${judged.length} location${judged.length === 1 ? '' : 's'} hold the vault token ${audit.vault.fingerprint}`);
  },
};
