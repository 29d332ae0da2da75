import type Docker from 'dockerode';
import { composeOrigin, composeRecreateCommand } from '../docker/compose.js';
import { envRecord } from '../docker/spec.js';
import { errorMessage } from '../errors.js';
import { redact } from '../redact.js';
import { isBcryptHash } from './credential.js';
import type { CredentialLocation, LocationReading } from './locations.js';

/**
 * A token in the container's own environment (COMFYUI_BEARER_TOKEN put there by compose from an
 * env_file, or by `docker run -e`): audited as `container-env:<KEY>`. The panel cannot change a
 * running container's environment; only a recreate does, so the location is read-only: a
 * rotation leaves it stale, and the audit says so with the command that makes it current.
 */
export function containerEnvLocation(docker: Docker, container: string, key: string, dockerHost?: string): CredentialLocation & { fix(): Promise<string> } {
  const inspect = () => docker.getContainer(container).inspect();
  return {
    name: `container-env:${key}`,
    path: `container:${container} env ${key}`,
    async read(): Promise<LocationReading> {
      let env: Record<string, string>;
      try {
        env = envRecord((await inspect()).Config.Env);
      } catch (e) {
        return { state: 'unreadable', detail: redact(errorMessage(e)).slice(0, 200) };
      }
      const value = env[key];
      if (value === undefined) return { state: 'missing', detail: `the container's environment has no ${key}` };
      if (!isBcryptHash(value)) return { state: 'malformed', detail: `${key} in the container's environment is not a bcrypt hash` };
      return { state: 'present', token: value, values: { token: value } };
    },
    snapshot: async () => ({ existed: false }),
    // Nothing to write: the environment is the container's, set when it was created.
    write: async () => undefined,
    restore: async () => undefined,
    async fix() {
      const origin = composeOrigin(await inspect().then((i) => i.Config.Labels, () => undefined));
      if (origin) {
        return `${key} is set in ${container}'s environment when compose creates it: after the env file that feeds it holds the new token, recreate it through compose: ${composeRecreateCommand(origin, dockerHost).text}`;
      }
      return `${key} is set in ${container}'s environment when it is created: recreate the container with the new value (\`comfy-panel container recreate\` for a panel-made one).`;
    },
  };
}
