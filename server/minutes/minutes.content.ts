import * as Y from 'yjs';
import type { MinutesBlock, MinutesRun } from '../../shared/protocol/minutes.js';

/** Text runs of an inline container (paragraph, heading, table cell paragraph). */
function runsOf(el: Y.XmlElement | Y.XmlFragment): MinutesRun[] {
  const runs: MinutesRun[] = [];
  for (const child of el.toArray()) {
    if (child instanceof Y.XmlText) {
      for (const op of child.toDelta() as { insert: unknown; attributes?: Record<string, unknown> }[]) {
        if (typeof op.insert !== 'string') continue;
        const a = op.attributes ?? {};
        runs.push({ text: op.insert, ...(a.bold ? { b: true } : {}), ...(a.italic ? { i: true } : {}) });
      }
    } else if (child instanceof Y.XmlElement) {
      if (child.nodeName === 'hardBreak') runs.push({ text: ' ' });
      else runs.push(...runsOf(child));
    }
  }
  return runs;
}

const plain = (runs: MinutesRun[]) => runs.map((r) => r.text).join('');

/** Paragraph-level children of a list item, flattened into one run list. */
function listItemRuns(li: Y.XmlElement): MinutesRun[] {
  const out: MinutesRun[] = [];
  for (const c of li.toArray()) {
    if (!(c instanceof Y.XmlElement)) continue;
    if (c.nodeName === 'bulletList' || c.nodeName === 'orderedList') {
      for (const sub of c.toArray()) if (sub instanceof Y.XmlElement) out.push({ text: ' — ' }, ...listItemRuns(sub));
    } else out.push(...(out.length ? [{ text: ' ' }] : []), ...runsOf(c));
  }
  return out;
}

/**
 * Converts the free-text fragment written with the client's TipTap (ProseMirror schema: paragraph,
 * heading, bulletList, orderedList, listItem, table/tableRow/tableCell/tableHeader, blockquote,
 * bold, italic) into the minutes block model. Unknown nodes degrade to their text.
 */
export function fragmentToBlocks(fragment: Y.XmlFragment): MinutesBlock[] {
  const blocks: MinutesBlock[] = [];
  const walk = (nodes: (Y.XmlElement | Y.XmlText | Y.XmlHook)[]) => {
    for (const n of nodes) {
      if (n instanceof Y.XmlText) {
        const text = n.toString();
        if (text.trim()) blocks.push({ t: 'p', runs: [{ text }] });
        continue;
      }
      if (!(n instanceof Y.XmlElement)) continue;
      switch (n.nodeName) {
        case 'heading': {
          const level = Math.min(3, Math.max(1, Number(n.getAttribute('level')) || 2));
          const text = plain(runsOf(n)).trim();
          if (text) blocks.push({ t: 'h', level: Math.max(2, level), text });
          break;
        }
        case 'paragraph': {
          const runs = runsOf(n);
          if (plain(runs).trim()) blocks.push({ t: 'p', runs });
          break;
        }
        case 'bulletList':
        case 'orderedList': {
          const items = n.toArray().filter((c): c is Y.XmlElement => c instanceof Y.XmlElement).map(listItemRuns);
          if (items.length) blocks.push({ t: n.nodeName === 'bulletList' ? 'ul' : 'ol', items });
          break;
        }
        case 'table': {
          const rows = n
            .toArray()
            .filter((r): r is Y.XmlElement => r instanceof Y.XmlElement)
            .map((r) => r.toArray().filter((c): c is Y.XmlElement => c instanceof Y.XmlElement).map((c) => plain(runsOf(c)).trim()));
          const first = n.toArray()[0];
          const header = first instanceof Y.XmlElement && first.toArray().some((c) => c instanceof Y.XmlElement && c.nodeName === 'tableHeader');
          if (rows.length) blocks.push({ t: 'table', rows, header });
          break;
        }
        case 'blockquote':
          walk(n.toArray());
          break;
        default: {
          const runs = runsOf(n);
          if (plain(runs).trim()) blocks.push({ t: 'p', runs });
        }
      }
    }
  };
  walk(fragment.toArray());
  return blocks;
}
