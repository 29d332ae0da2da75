import type { Figure } from '../measurement.js';
import { comfyFigure } from './comfy.js';
import { envFigure } from './env.js';
import { healthFigure } from './health.js';
import { logsFigure } from './logs.js';
import { memoryFigure } from './memory.js';
import { rendererFigure } from './renderer.js';
import { rotationFigure } from './rotation.js';
import { serveFigure } from './serve.js';

/** Every figure, in the order of the brief (issue 8 item 4, then issue 16's). */
export const figures: readonly Figure[] = [envFigure, comfyFigure, healthFigure, rotationFigure, logsFigure, rendererFigure, memoryFigure, serveFigure];
