import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Env, SfuEnv, configDoc, loadConfig } from '../../server/config.js';

describe('configuration', () => {
  it('production refuses to start with the default secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ECABINET_SECRET/);
  });
  it('production never seeds demo data, even when asked', () => {
    const c = loadConfig({ NODE_ENV: 'production', ECABINET_SECRET: 'a-long-random-production-secret', ECABINET_SEED: 'auto' });
    expect(c.seed).toBe('none');
  });
  it('development seeds by default and serves on PORT', () => {
    const c = loadConfig({ PORT: '4123' });
    expect(c.seed).toBe('demo');
    expect(c.port).toBe(4123);
  });
  it('ECABINET_SEED=admin seeds only the admin account (the tests build their own committees); never, nothing', () => {
    expect(loadConfig({ ECABINET_SEED: 'admin' }).seed).toBe('admin');
    expect(loadConfig({ ECABINET_SEED: 'never' }).seed).toBe('none');
    expect(() => loadConfig({ ECABINET_SEED: 'yes' })).toThrow();
  });
  it('production names every unsafe default it refuses', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ECABINET_DATA_DIR: '/srv/ec', ECABINET_BACKUP_DIR: '/srv/ec/backups' })).toThrow(
      /ECABINET_SECRET is the default.*; ECABINET_BACKUP_DIR is inside ECABINET_DATA_DIR/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production', ECABINET_SECRET: 'a-long-random-production-secret', ECABINET_BACKUP_DIR: '/backups' })).not.toThrow();
  });
  it('docs/CONFIG.md is generated from the schema: every variable with its default and meaning (npm run config:doc)', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/CONFIG.md'), 'utf8');
    expect(doc).toBe(configDoc());
    for (const [name, schema] of Object.entries({ ...Env.shape, ...SfuEnv.shape })) {
      expect(schema.description, `${name} has a meaning`).toBeTruthy();
      expect(doc).toContain(`| \`${name}\` |`);
    }
  });
  it('rejects a nonsense port', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow();
  });
});
