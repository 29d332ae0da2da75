/**
 * `npm run bench`: every speed and memory figure as a ratio against a baseline measured in
 * the same run, printed as a table and written to bench/results/latest.json. Exits 0 when
 * targets are missed (they are reported), 1 when a figure could not be measured, 2 on bad
 * BENCH_* settings. Sizes: see bench/sizes.ts (BENCH_* variables); BENCH_ONLY=env,comfy.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { figures } from './figures/index.js';
import { formatTable, writeReport } from './report.js';
import { runFigures, selectFigures } from './runner.js';
import { sizesFromEnv } from './sizes.js';

const resultsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

let chosen;
let sizes;
try {
  sizes = sizesFromEnv();
  chosen = selectFigures(figures, process.env.BENCH_ONLY);
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(2);
}
const report = await runFigures(chosen, sizes, (line) => process.stderr.write(`bench: ${line}\n`));
process.stdout.write(`${formatTable(report)}\n`);
await writeReport(report, resultsFile);
process.stdout.write(`written: ${path.relative(process.cwd(), resultsFile)}\n`);
if (report.failures.length) process.exitCode = 1;
