/** The private Docker network of a deployment's gateway and ComfyUI containers. */
import type Docker from 'dockerode';
import { LABEL_MANAGED } from './spec.js';

const statusCodeOf = (e: unknown) => (e as { statusCode?: number } | undefined)?.statusCode;

/** Creates the bridge network when it does not exist (another process creating it first is fine). */
export async function ensureNetwork(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getNetwork(name).inspect();
    return;
  } catch (e) {
    if (statusCodeOf(e) !== 404) throw e;
  }
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL_MANAGED]: 'true' } });
  } catch (e) {
    // 409: created meanwhile by a concurrent create.
    if (statusCodeOf(e) !== 409) throw e;
  }
}

/** Removes the network if the panel created it and nothing is attached any more; else leaves it. */
export async function removeNetworkIfUnused(docker: Docker, name: string): Promise<boolean> {
  try {
    const info = (await docker.getNetwork(name).inspect()) as { Labels?: Record<string, string>; Containers?: Record<string, unknown> };
    if (info.Labels?.[LABEL_MANAGED] !== 'true' || Object.keys(info.Containers ?? {}).length) return false;
    await docker.getNetwork(name).remove();
    return true;
  } catch (e) {
    if (statusCodeOf(e) === 404) return false;
    throw e;
  }
}
