import { EventEmitter } from 'node:events';
import type { EventName, PanelEvents } from '../contract/index.js';

export type BusListener<E extends EventName> = (payload: PanelEvents[E], instance: string | undefined) => void;

/**
 * Typed publish/subscribe for the events of the contract. The fleet shares one emitter: each
 * instance's view (`forInstance`) tags what it emits with its id and hears only its own events;
 * the root view, which the transports subscribe to, hears every instance's with the id.
 */
export class EventBus {
  constructor(
    private readonly emitter = new EventEmitter().setMaxListeners(0),
    readonly instance?: string,
  ) {}

  forInstance(id: string): EventBus {
    return new EventBus(this.emitter, id);
  }

  emit<E extends EventName>(event: E, payload: PanelEvents[E]): void {
    this.emitter.emit(event, payload, this.instance);
  }

  on<E extends EventName>(event: E, listener: BusListener<E>): () => void {
    const mine = this.instance;
    const l = mine === undefined ? listener : (payload: PanelEvents[E], from: string | undefined) => from === mine && listener(payload, from);
    this.emitter.on(event, l);
    return () => this.emitter.off(event, l);
  }
}
