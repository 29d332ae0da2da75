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
  };
  /** What is not right, each with what to do. */
  problems: string[];
}
