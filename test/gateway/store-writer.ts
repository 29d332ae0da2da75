/** Child process for the fault test: creates keys in a loop until it is killed (SIGKILL mid-write). */
import { createKey } from '../../app/gateway/keys.js';

const dir = process.argv[2]!;
for (let i = 0; ; i++) {
  await createKey(dir, { name: `churn-${i}`, scope: 'read' });
  if (i === 0) process.stdout.write('first\n');
}
