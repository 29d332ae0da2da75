import { expectTypeOf, test } from 'vitest';
import type { Dialect, DialectModule } from '../../app/env/index.js';
import { dialectModules } from '../../app/env/index.js';

test('the registry is keyed by exactly the dialect names, so none can be left out', () => {
  expectTypeOf<keyof typeof dialectModules>().toEqualTypeOf<Dialect>();
  // A registry missing a dialect does not compile.
  // @ts-expect-error raw is missing
  const partial: Record<Dialect, DialectModule> = { compose: dialectModules.compose, dotenv: dialectModules.dotenv };
  expectTypeOf(partial).not.toBeNever();
});
