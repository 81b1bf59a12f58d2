import type { Catalog } from './catalog.js';

/** English for the 'admin.*' messages. */
export const admin: Catalog = {
};
