import type { Figure } from '../measurement.js';
import { bundlesFigure } from './bundles.js';
import { comfyFigure } from './comfy.js';
import { containerFigure } from './container.js';
import { envFigure } from './env.js';
import { fleetFigure } from './fleet.js';
import { fleetSweepFigure } from './fleet-sweep.js';
import { gatewayFigure } from './gateway.js';
import { healthFigure } from './health.js';
import { logsFigure } from './logs.js';
import { memoryFigure } from './memory.js';
import { rendererFigure } from './renderer.js';
import { rotationFigure } from './rotation.js';
import { serveFigure } from './serve.js';

/** Every figure: the brief's order (issue 8 item 4), then bundle sizes (issue 11), the gateway (issue 18), serve under hostile answers (issue 16), the container view and the CLI start (issue 15), the fleet page and the fleet sweep (issue 19). */
export const figures: readonly Figure[] = [envFigure, comfyFigure, healthFigure, rotationFigure, logsFigure, rendererFigure, memoryFigure, bundlesFigure, gatewayFigure, serveFigure, containerFigure, fleetFigure, fleetSweepFigure];
