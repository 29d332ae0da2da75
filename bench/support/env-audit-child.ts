// One side of the env memory figure, in a fresh process so its peak is its own:
// `node --import tsx env-audit-child.ts audit|dotenv <folder> <runs>` prints
// {"maxRssBytes": …} after auditing <folder> (or dotenv.parse of <folder>/.env) <runs> times.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import { parseConfig } from '../../app/config/load.js';
import { auditEnvTree, envScope } from '../../app/env/index.js';

const [mode = '', folder = '', runs = '1'] = process.argv.slice(2);
const env = parseConfig({}).env;
let findings = 0;
for (let i = 0; i < Number(runs); i++) {
  if (mode === 'audit') findings = (await auditEnvTree(envScope(env, path.join(folder, 'config.json')), env, { lookup: () => undefined })).findings.length;
  else if (mode === 'dotenv') findings = Object.keys(parse(readFileSync(path.join(folder, '.env')))).length;
  else throw new Error(`unknown mode ${mode}`);
}
// maxRSS is in kilobytes: the peak resident size of this whole process.
process.stdout.write(`${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, findings })}\n`);
