import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';

describe('configuration', () => {
  it('production refuses to start with the default secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ECABINET_SECRET/);
  });
  it('production never seeds demo data, even when asked', () => {
    const c = loadConfig({ NODE_ENV: 'production', ECABINET_SECRET: 'a-long-random-production-secret', ECABINET_SEED: 'auto' });
    expect(c.seed).toBe(false);
  });
  it('development seeds by default and serves on PORT', () => {
    const c = loadConfig({ PORT: '4123' });
    expect(c.seed).toBe(true);
    expect(c.port).toBe(4123);
  });
  it('rejects a nonsense port', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow();
  });
});
