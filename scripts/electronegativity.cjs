// Runs @doyensec/electronegativity on the Electron main/preload sources and the built page
// (with its CSP); fails on any finding above informational that is not reviewed inline.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const run = require('@doyensec/electronegativity');

(async () => {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'eneg-'));
  fs.cpSync('main', path.join(stage, 'main'), { recursive: true });
  fs.copyFileSync('dist/renderer/index.html', path.join(stage, 'index.html'));
  fs.copyFileSync('package.json', path.join(stage, 'package.json'));
  const out = path.join(os.tmpdir(), `electronegativity-${process.pid}.csv`);
  const result = await run({
    input: stage,
    output: out,
    isSarif: false,
    customScan: [],
    excludeFromScan: [],
    severitySet: 'informational',
    confidenceSet: 'tentative',
    isRelative: true,
    isVerbose: false,
    electronVersionOverride: require('electron/package.json').version,
  });
  const serious = result.issues.filter((f) => f.severity.name !== 'INFORMATIONAL');
  console.log(`electronegativity: ${result.globalChecks + result.atomicChecks} checks, ${result.issues.length} findings, ${serious.length} above informational, ${result.errors.length} files not parsed`);
  for (const f of serious) console.log(`  ${f.severity.name} ${f.id} ${f.file}:${f.location.line} ${f.description}`);
  for (const e of result.errors) console.log(`  NOT PARSED ${e.file}: ${e.message ?? e.error ?? ''}`);
  try {
    fs.rmSync(stage, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  } catch (e) {
    // The scanner may still be writing into its stage; a leftover temp folder is not a finding.
    console.log(`electronegativity: could not remove ${stage} (${e.code}); left in the temp folder`);
  }
  process.exit(serious.length || result.errors.length ? 1 : 0);
})().catch((e) => {
  console.error('electronegativity failed:', e.message);
  process.exit(1);
});
