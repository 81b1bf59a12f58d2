import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** Parts that are not ours to judge: pdf.js's transparent text layer (selection only; its colour is meaningless). */
export const AXE_EXCLUDE_DEFAULT = ['.textLayer'];

/**
 * Runs axe-core (WCAG 2.x A/AA rules, through shadow roots) on the page as it is now and returns the
 * serious and critical violations as short lines (`rule (impact): selector … — help`); expect `[]`.
 * `exclude` takes CSS selectors matched inside every shadow root (the helper turns each match into
 * axe's `fromShadowDom` chain); by default pdf.js's text layers, whose thousands of transparent spans
 * also made a run take a minute.
 */
export async function seriousA11yViolations(page: Page, opts: { exclude?: string[] } = {}): Promise<string[]> {
  const selectors = opts.exclude ?? AXE_EXCLUDE_DEFAULT;
  // Passed as source text: transpilers that add helpers (tsx's __name) would break a function argument.
  const chains = (await page.evaluate(`(() => {
    const selectors = ${JSON.stringify(selectors)};
    const out = new Set();
    const visit = (root, hosts) => {
      for (const sel of selectors) if (root.querySelector(sel)) out.add(JSON.stringify([...hosts, sel]));
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) visit(el.shadowRoot, [...hosts, el.localName]);
    };
    visit(document, []);
    return [...out].map((s) => JSON.parse(s));
  })()`)) as string[][];
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  for (const chain of chains) builder = builder.exclude(chain.length === 1 ? chain[0] : { fromShadowDom: chain as [string, string, ...string[]] });
  const result = await builder.analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(' ')} — ${v.help}`);
}
