import type { OpName } from '../app/contract/index.js';

export const opChannel = (name: OpName) => `panel:op:${name}`;
export const EVENT_CHANNEL = 'panel:event';
