import { z } from 'zod';
import type { Dialect } from '../names.js';
import { op } from '../define.js';
import type { ContainerPhase, ContainerState } from './container.js';

/** `gateway status --json` (stable: url, state, upstream) and the Clients page's header. */
export interface GatewayOverview {
  /** The URL clients use (the only published port). */
  url: string;
  /** The gateway container's phase. */
  state: ContainerPhase;
  container: ContainerState;
  /** Its own health page answered from here just now. */
  reachable: boolean;
  /** ComfyUI as the gateway reaches it, and whether it is really hidden behind the gateway. */
  upstream: {
    url: string;
    container: string;
    state: ContainerPhase;
    /** On the gateway's private network. */
    onNetwork: boolean;
    /** Host ports ComfyUI still publishes (should be none: `container recreate` removes them). */
    publishedPorts: string[];
    /**
     * ComfyUI's address on the private network, which the panel itself can use as comfyui.url
     * on the engine's host (Linux); null when it is not on the network.
     */
    directUrl: string | null;
  };
  /** What is not right, each with what to do. */
  problems: string[];
}

export type ClientScope = 'read' | 'generate' | 'admin' | 'control';
export type ClientKeyState = 'active' | 'overlap' | 'expired' | 'revoked';

/** A key as lists show it: never the key, never its hash. */
export interface ClientKeyView {
  id: string;
  name: string;
  scope: ClientScope;
  state: ClientKeyState;
  /** Last 4 characters, to tell keys apart. */
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  rateLimit: { requests: number; perSeconds: number } | null;
  maxQueued: number | null;
  supersededBy: string | null;
  rotatedFrom: string | null;
}

/** SECRET: the only answer that carries the raw key (create, rotate). */
export interface CreatedClientKey extends ClientKeyView {
  key: string;
}

export interface ClientAddress {
  address: string;
  requests: number;
  lastUsedAt: string;
}

export interface ClientUsage {
  id: string;
  name: string;
  scope: ClientScope | null;
  state: ClientKeyState | null;
  requests: number;
  prompts: number;
  executionSeconds: number;
  lastUsedAt: string | null;
  lastAddress: string | null;
  addresses: ClientAddress[];
}

export interface RotatedClientKey extends CreatedClientKey {
  previous: ClientKeyView & { stillUsedBy: ClientAddress[] };
}

/** SECRET: a new key with its env lines for every dialect (COMFYUI_URL = the gateway, COMFYUI_BEARER_TOKEN = the key). */
export type HandedOverKey<K extends CreatedClientKey = CreatedClientKey> = K & {
  envLines: Record<Dialect, string[]>;
  /** The env targets that get this key (env.targets[].clientKey), written with it. */
  envFiles: string[];
};

const empty = z.object({}).strict();
const keyName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, '1-64 letters, digits, dot, dash or underscore');
const duration = z.string().regex(/^\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)$/, 'a number and a unit, e.g. 30s, 10m, 2h, 7d');

export const gatewayOps = {
  gatewayStatus: op<GatewayOverview>()('The gateway container, its URL, and whether ComfyUI is hidden behind it', empty),
  gatewayUp: op<ContainerState>()('Create the private network and the gateway container if absent, and start it', empty),
  gatewayDown: op<ContainerState>()('Stop the gateway (clients are refused until it is up again)', empty),
  clientKeys: op<{ keys: ClientKeyView[] }>()('Every client key of the gateway, without the keys themselves', empty),
  clientKeyCreate: op<HandedOverKey>()(
    'SECRET: create a client key; the answer is the only time the key is shown',
    z
      .object({
        name: keyName,
        scope: z.enum(['read', 'generate', 'admin']),
        expiresIn: duration.optional().describe('Expires this long after now; none: no expiry'),
        rateLimit: z.object({ requests: z.int().min(1), perSeconds: z.number().positive() }).strict().optional(),
        maxQueued: z.int().min(1).optional(),
      })
      .strict(),
  ),
  clientKeyRevoke: op<{ revoked: ClientKeyView[] }>()('Revoke a key (by name: a rotating pair too); in force within a second', z.object({ name: keyName }).strict()),
  clientKeyRotate: op<HandedOverKey<RotatedClientKey>>()(
    'SECRET: issue the successor of a key; the old one keeps working for the overlap',
    z.object({ name: keyName, overlap: duration }).strict(),
  ),
  clientUsage: op<{ keys: ClientUsage[] }>()('Requests, prompts and execution seconds per key, with last use and address', empty),
};


