import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDouble, type Started } from './helpers.js';

let s: Started;
useDouble({}, (started) => {
  s = started;
});
const anon = (path: string, init: RequestInit = {}) => fetch(`${s.comfy.url}${path}`, { redirect: 'manual', ...init });
const authed = (path: string, init: RequestInit = {}) => anon(path, { ...init, headers: { ...s.auth, ...(init.headers as Record<string, string>) } });

describe('the suffix allowlist: paths ending .js, .css, .css.map or .ico skip authentication', () => {
  it.each(['/x.js', '/x.css', '/x.css.map', '/x.ico', '/api/nothing/here.js', '/system_stats.css'])('[S3] anonymous GET %s reaches the router (404, not 401)', async (path) => {
    expect((await anon(path)).status).toBe(404);
  });

  it('[S3] other suffixes, and the same names with a query, still need a login', async () => {
    for (const path of ['/x.map', '/x.json', '/x.jsx', '/x.png']) expect((await anon(path)).status, path).toBe(401);
    expect((await anon('/system_stats?f=x.js')).status).toBe(401);
  });

  it('[S3] the check looks at the decoded path: /x%2Ejs counts as .js', async () => {
    expect((await anon('/x%2Ejs')).status).toBe(404);
  });

  it('[S3] serves the login node\'s own /old_css/style.css without a login', async () => {
    const res = await anon('/old_css/style.css');
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/css']);
  });
});

describe('/api/userdata/{file} (user/default/), reachable anonymously for .js and .css names', () => {
  it('[S4] an anonymous POST /api/userdata/anything.js lands in user/default/, and an anonymous GET reads it back', async () => {
    const res = await anon('/api/userdata/anything.js', { method: 'POST', body: 'x' });
    expect([res.status, await res.text()]).toEqual([200, '"anything.js"']);
    expect(readFileSync(join(s.root, 'user', 'default', 'anything.js'), 'utf8')).toBe('x');
    const back = await anon('/api/userdata/anything.js');
    expect([back.status, await back.text(), back.headers.get('content-type')]).toEqual([200, 'x', 'text/javascript']);
  });

  it('[S4] anything.json needs a login (401 anonymous), and works with the token', async () => {
    expect((await anon('/api/userdata/anything.json', { method: 'POST', body: '{}' })).status).toBe(401);
    expect(existsSync(join(s.root, 'user', 'default', 'anything.json'))).toBe(false);
    expect((await authed('/api/userdata/anything.json', { method: 'POST', body: '{"a": 1}' })).status).toBe(200);
    const got = await authed('/userdata/anything.json');
    expect([got.status, await got.text(), got.headers.get('content-type')]).toEqual([200, '{"a": 1}', 'application/json']);
  });

  it('[S4] the front end\'s user.css is an anonymous write away', async () => {
    expect((await anon('/api/userdata/user.css', { method: 'POST', body: 'body{display:none}' })).status).toBe(200);
    expect((await anon('/api/userdata/user.css')).status).toBe(200);
  });

  it('GET of a missing file is 404; DELETE removes (204) and then 404s; overwrite=false is 409', async () => {
    expect((await authed('/api/userdata/missing.json')).status).toBe(404);
    await anon('/api/userdata/gone.js', { method: 'POST', body: '1' });
    const refused = await anon('/api/userdata/gone.js?overwrite=false', { method: 'POST', body: '3' });
    expect([refused.status, await refused.text()]).toEqual([409, 'File already exists']);
    const del = await anon('/api/userdata/gone.js', { method: 'DELETE' });
    expect([del.status, await del.text()]).toEqual([204, '']);
    expect((await anon('/api/userdata/gone.js', { method: 'DELETE' })).status).toBe(404);
  });

  it('an encoded slash makes a subfolder; leaving user/default/ is 403; full_info gives path, size and times', async () => {
    const res = await anon('/api/userdata/workflows%2Fa.js?full_info=true', { method: 'POST', body: 'abc' });
    expect(await res.json()).toMatchObject({ path: 'workflows/a.js', size: 3, modified: expect.any(Number), created: expect.any(Number) });
    expect(readFileSync(join(s.root, 'user', 'default', 'workflows', 'a.js'), 'utf8')).toBe('abc');
    expect((await anon('/api/userdata/..%2F..%2Fescape.js', { method: 'POST', body: 'x' })).status).toBe(403);
    const list = await authed('/api/userdata?dir=workflows');
    expect(await list.json()).toEqual(['a.js']);
    expect((await authed('/api/userdata')).status).toBe(400);
  });
});
