/** Per-key request rate: a token bucket of `requests` per `perSeconds`, refilled continuously. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** 0 when the request may go, else the seconds until it may. */
  take(key: string, limit: { requests: number; perSeconds: number } | undefined, now = Date.now()): number {
    if (!limit) return 0;
    const rate = limit.requests / (limit.perSeconds * 1000);
    const b = this.buckets.get(key) ?? { tokens: limit.requests, at: now };
    b.tokens = Math.min(limit.requests, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}
