import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, PUSHES } from '../../shared/protocol/socket-events.js';

const doc = fs.readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
/** Event names a table row of docs/PROTOCOL.md starts with: | `domain:event` | … */
const documentedEvents = () => [...doc.matchAll(/^\| `([a-z]+:[a-z_]+)`/gm)].map((m) => m[1]);

describe('docs/PROTOCOL.md and the protocol tables of shared/protocol', () => {
  it('every command and every push of the tables is documented', () => {
    const missing = [...Object.keys(COMMANDS), ...Object.keys(PUSHES)].filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('every event a table row of the doc names is a command or a push of the tables (no stale names)', () => {
    const known = new Set([...Object.keys(COMMANDS), ...Object.keys(PUSHES)]);
    expect(documentedEvents().length).toBeGreaterThan(20);
    expect(documentedEvents().filter((name) => !known.has(name))).toEqual([]);
  });
});
