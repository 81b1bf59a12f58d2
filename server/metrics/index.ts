import type { ServerModule } from '../context.js';
import { wireMetrics } from './metrics.attachment.js';

/**
 * Metrics of the running subsystems (`ctx.metrics`). Its HTTP side (/metrics, /readyz, request
 * timings) is part of the HTTP pipeline in server/app.ts.
 */
export const metricsModule: ServerModule = { name: 'metrics', start: wireMetrics };
