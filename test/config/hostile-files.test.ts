/**
 * Issue 16 item 16: a config path that is not a sane regular file (a device, a FIFO, a folder,
 * a huge file) is refused at once with a clear error, never read for minutes or waited on forever.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../app/cli/main.js';
import { loadConfig, MAX_CONFIG_BYTES } from '../../app/config/load.js';
import { ConfigError } from '../../app/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'config-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (file: string) => loadConfig(file, true).then(() => 'loaded', (e: unknown) => e);

describe('config files that are not files', () => {
  it('refuses a character device such as /dev/zero without reading it', async () => {
    const before = process.memoryUsage().rss;
    const err = await refusal('/dev/zero');
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^\/dev\/zero: not a regular file \(a character device\)/);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 2 ** 20);
  });

  it('refuses a FIFO instead of waiting for a writer forever', async () => {
    const fifo = path.join(dir, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(String(await refusal(fifo))).toMatch(/config\.fifo: not a regular file \(a FIFO\)/);
  });

  it('refuses a folder and a file over the size limit, naming the limit', async () => {
    expect(String(await refusal(dir))).toMatch(/not a regular file \(a folder\)/);
    const big = path.join(dir, 'big.json');
    writeFileSync(big, `{"x": "${'a'.repeat(MAX_CONFIG_BYTES)}"}`);
    expect(String(await refusal(big))).toMatch(new RegExp(`big\\.json: larger than ${MAX_CONFIG_BYTES} bytes`));
  });

  it('the CLI exits 2 with the message for --config /dev/zero', async () => {
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
    try {
      expect(await runCli(['--config', '/dev/zero', 'token', 'audit'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(stderr).toMatch(/\/dev\/zero: not a regular file/);
  });
});
