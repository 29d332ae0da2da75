/** The gateway image's healthcheck: its own /_gateway/health answers 200. Exit 0 healthy, 1 not. */
import { get } from 'node:http';

get(`http://127.0.0.1:${process.env.GATEWAY_PORT ?? '8189'}/_gateway/health`, { timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
})
  .on('timeout', () => process.exit(1))
  .on('error', () => process.exit(1));
