/** The health work that runs in a worker thread with a memory budget: each a function of plain data. */
import { envConsistencyVerdict } from './checks/env-consistency.js';

export const isolatedTasks = {
  'env-consistency': envConsistencyVerdict,
};
export type IsolatedTasks = typeof isolatedTasks;
export type IsolatedTask = keyof IsolatedTasks;
