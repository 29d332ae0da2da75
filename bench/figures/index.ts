import type { Figure } from '../measurement.js';
import { bundlesFigure } from './bundles.js';
import { comfyFigure } from './comfy.js';
import { envFigure } from './env.js';
import { healthFigure } from './health.js';
import { logsFigure } from './logs.js';
import { memoryFigure } from './memory.js';
import { rendererFigure } from './renderer.js';
import { rotationFigure } from './rotation.js';

/** Every figure, in the order of the brief (issue 8 item 4), then the bundle sizes (issue 11 item 6). */
export const figures: readonly Figure[] = [envFigure, comfyFigure, healthFigure, rotationFigure, logsFigure, rendererFigure, memoryFigure, bundlesFigure];
