import type { Catalog } from './catalog.js';

/** English for the 'agenda.*' messages. */
export const agenda: Catalog = {
};
