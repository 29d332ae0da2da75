/**
 * Several sessions and suites share one Docker engine: tests name what they create per run
 * (uniqueName, the stack's pid-and-time names, the double image's content hash) and remove only
 * that. Pruning removes whatever nobody is using at that instant, other runs' images included.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const PRUNE = /\bprune(Images|Containers|Networks|Volumes|Builder)?\s*\(|docker\s+(system|image|container|network|volume|builder)\s+prune/;
const files = execFileSync('git', ['ls-files', 'test', 'e2e', 'bench', 'scripts', '.ci'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|mts|mjs|cjs|js|sh)$|^\.ci\/run$/.test(f) && f !== 'test/hygiene/shared-engine.test.ts');

describe('tests on the shared Docker engine', () => {
  it('never prune images, containers, networks or volumes', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => PRUNE.test(readFileSync(path.join(root, f), 'utf8')))).toEqual([]);
  });

  it('the check sees a prune when there is one', () => {
    expect(['await docker.pruneImages({ filters })', 'docker image prune -f', 'docker system prune'].map((t) => PRUNE.test(t))).toEqual([true, true, true]);
  });
});
