import { z } from 'zod';
import { PanelConfigSchema } from './schema.js';

/** The JSON Schema of the config file, derived from the zod schema (the one definition). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PanelConfigSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://comfy-panel.local/config.schema.json',
    title: 'ComfyUI Control Panel configuration',
  };
}
