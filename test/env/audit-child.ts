// Audits one folder and prints the audit as JSON: run as another user to meet real permission errors.
// `node --import tsx test/env/audit-child.ts <root>`
import path from 'node:path';
import { auditEnvTree, envScope } from '../../app/env/index.js';
import { envConfig } from './support.js';

const root = process.argv[2] ?? '.';
const env = envConfig();
process.stdout.write(JSON.stringify(await auditEnvTree(envScope(env, path.join(root, 'config.json')), env, { lookup: () => undefined })));
