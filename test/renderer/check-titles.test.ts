// The dashboard shows checks by the titles of app/contract/names.ts (the renderer cannot load the
// checks themselves); they must be exactly the checks' own titles, for every registered check.
import { describe, expect, it } from 'vitest';
import { checkTitles } from '../../app/contract/names.js';
import { healthChecks } from '../../app/health/checks/index.js';

describe('check titles for the UI', () => {
  it('name every registered check with its own title, and no other', () => {
    expect(checkTitles).toEqual(Object.fromEntries(healthChecks.map((c) => [c.id, c.title])));
  });
});
