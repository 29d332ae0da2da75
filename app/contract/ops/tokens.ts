export interface RotationStep {
  rotationId: string;
  step: string;
  status: 'started' | 'ok' | 'failed' | 'skipped';
  ms?: number;
  message?: string;
}

export const tokenOps = {};
