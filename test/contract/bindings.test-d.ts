// Type-level proof that every binding of the contract implements every operation and nothing else.
import { expectTypeOf, test } from 'vitest';
import type { PanelBridge } from '../../app/contract/envelope.js';
import type { EventName, InstanceHandlers, Operations, OpName, PanelApi, PanelHandlers } from '../../app/contract/index.js';
import type { fleetOps } from '../../app/contract/ops/fleet.js';
import type { createPanelRuntime } from '../../app/service/runtime.js';
import type { eventNames, opNames } from '../../app/contract/names.js';
import type { createPanelHandlers } from '../../app/service/index.js';
import type { bindIpc } from '../../main/ipc.js';
import type { createBridge } from '../../main/preload.js';
import type { browserClient, electronClient } from '../../renderer/src/api/client.js';

test('the core implements exactly the operations of the contract: an instance all but the fleet-wide ones, the runtime all', () => {
  expectTypeOf<ReturnType<typeof createPanelHandlers>>().toEqualTypeOf<InstanceHandlers>();
  expectTypeOf<keyof ReturnType<typeof createPanelHandlers> | keyof typeof fleetOps>().toEqualTypeOf<OpName>();
  expectTypeOf<ReturnType<typeof createPanelRuntime>['handlers']>().toEqualTypeOf<PanelHandlers>();
});

test('the Electron IPC binding registers exactly the operations of the contract', () => {
  expectTypeOf<keyof ReturnType<typeof bindIpc>>().toEqualTypeOf<OpName>();
});

test('the preload bridge exposes exactly the operations of the contract', () => {
  expectTypeOf<ReturnType<typeof createBridge>>().toEqualTypeOf<PanelBridge>();
  expectTypeOf<keyof PanelBridge['ops']>().toEqualTypeOf<OpName>();
});

test('both renderer clients expose exactly the operations of the contract', () => {
  expectTypeOf<ReturnType<typeof browserClient>['api']>().toEqualTypeOf<PanelApi>();
  expectTypeOf<ReturnType<typeof electronClient>['api']>().toEqualTypeOf<PanelApi>();
  expectTypeOf<keyof PanelApi>().toEqualTypeOf<OpName>();
});

test('the zod-free name lists are exactly the contract names', () => {
  expectTypeOf<(typeof opNames)[number]>().toEqualTypeOf<OpName>();
  expectTypeOf<keyof Operations>().toEqualTypeOf<OpName>();
  expectTypeOf<(typeof eventNames)[number]>().toEqualTypeOf<EventName>();
});
