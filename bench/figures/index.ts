import type { Figure } from '../measurement.js';
import { bundlesFigure } from './bundles.js';
import { comfyFigure } from './comfy.js';
import { envFigure } from './env.js';
import { gatewayFigure } from './gateway.js';
import { healthFigure } from './health.js';
import { logsFigure } from './logs.js';
import { memoryFigure } from './memory.js';
import { rendererFigure } from './renderer.js';
import { rotationFigure } from './rotation.js';
import { serveFigure } from './serve.js';

/** Every figure: the brief's order (issue 8 item 4), then bundle sizes (issue 11), the gateway (issue 18) and serve under hostile answers (issue 16). */
export const figures: readonly Figure[] = [envFigure, comfyFigure, healthFigure, rotationFigure, logsFigure, rendererFigure, memoryFigure, bundlesFigure, gatewayFigure, serveFigure];
