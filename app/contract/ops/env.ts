export const envOps = {};
