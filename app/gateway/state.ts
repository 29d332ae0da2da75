/**
 * A deployment's gateway state as the panel sees it. `dir` is the panel's own folder: it writes
 * keys.json there (the one copy it reads and changes) and reads usage/ there. On a local engine
 * that folder is bind-mounted into the gateway and nothing more is needed. On a remote engine
 * (ssh, tcp) a host path would name a folder on the other machine, so the gateway's state is a
 * named volume there: `publish` copies keys.json into it after every write and `refresh` copies
 * the gateway's usage log out of it before it is read (app/docker/gateway.ts, the archive API).
 */
export interface GatewayState {
  dir: string;
  /** After keys.json changed in `dir`: make the gateway see it. */
  publish?: () => Promise<void>;
  /** Before usage/ in `dir` is read: bring over what the gateway wrote. */
  refresh?: () => Promise<void>;
}

/** A plain folder: the bind-mounted case. */
export type StateLocation = string | GatewayState;

export const stateOf = (s: StateLocation): GatewayState => (typeof s === 'string' ? { dir: s } : s);
