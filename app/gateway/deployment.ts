/**
 * Where a deployment's gateway keeps its state on the panel's side: the folder the panel writes
 * keys.json into and mounts into the gateway container. Takes the config section and the
 * deployment's data folder (one per instance once the fleet lands), never a global.
 */
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.js';

export function gatewayStateDir(gateway: GatewayConfig, dataDir: string): string {
  return path.resolve(dataDir, gateway.stateDir ?? 'gateway');
}

/** The URL clients use: the published address (a wildcard bind is reached on loopback from here). */
export function gatewayUrl(gateway: GatewayConfig): string {
  const host = ['0.0.0.0', '::', ''].includes(gateway.bindAddress) ? '127.0.0.1' : gateway.bindAddress;
  return `http://${host.includes(':') ? `[${host}]` : host}:${gateway.hostPort}`;
}
