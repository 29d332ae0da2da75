import type { HealthCheck } from '../check.js';
import { authAcceptsTokenCheck } from './auth-accepts-token.js';
import { authRejectsAnonymousCheck } from './auth-rejects-anonymous.js';
import { comfyuiVersionCheck } from './comfyui-version.js';
import { containerCheck } from './container.js';
import { dockerHealthCheck } from './docker-health.js';
import { dockerCheck } from './docker.js';
import { envConsistencyCheck } from './env-consistency.js';
import { gatewayHidesComfyCheck, gatewayKeysCheck, gatewayUpCheck } from './gateway.js';
import { generationCheck } from './generation.js';
import { gpuCheck } from './gpu.js';
import { loginNodeCheck } from './login-node.js';
import { tokenConsistencyCheck } from './token-consistency.js';
import { userdataExposureCheck } from './userdata-exposure.js';

/** Every health check, in the order the dashboard and the CLI list them. */
export const healthChecks: readonly HealthCheck[] = [
  dockerCheck,
  containerCheck,
  dockerHealthCheck,
  loginNodeCheck,
  authRejectsAnonymousCheck,
  authAcceptsTokenCheck,
  userdataExposureCheck,
  tokenConsistencyCheck,
  envConsistencyCheck,
  gpuCheck,
  comfyuiVersionCheck,
  generationCheck,
  gatewayUpCheck,
  gatewayHidesComfyCheck,
  gatewayKeysCheck,
];
