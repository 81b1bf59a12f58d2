import { str } from '@lit/localize';
import type { Catalog } from './catalog.js';

/** English for the search view's newer 'search.*' messages (the first ones are in documents.ts). */
export const search: Catalog = {
  'search.kind.meeting': 'Meeting',
  'search.filter.all': 'All',
  'search.filter.other': 'Minutes, conclusions',
  'search.filter.label': 'Filter by kind',
  'search.bestPages': str`Best matching pages of ${0}`,
  'search.loading': 'Searching…',
  'search.retry': 'Try again',
  'search.start': 'Type words from a meeting title, an agenda item, or a document title or text.',
  'search.noneTip': 'Try fewer words, or leave out the quotation marks.',
  'search.tip': 'Type with or without Vietnamese marks; put words in "quotes" to find that exact phrase.',
};
