// Regenerates config.schema.json from the zod schema: `npx tsx scripts/config-schema.ts`.
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../app/config/json-schema.js';

writeFileSync('config.schema.json', `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
