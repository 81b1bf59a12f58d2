import { str } from '@lit/localize';
import type { Catalog } from './catalog.js';

/** English for the 'agenda.*' messages. */
export const agenda: Catalog = {
  'agenda.empty': 'The agenda has no items yet.',
  'agenda.presenter': 'Presenter:',
  'agenda.minutes': str`${0} min`,
  'agenda.conflict': 'Someone else has just changed the agenda. The latest version has been loaded — please try again.',
  'agenda.invalidMove': str`The item cannot be moved there (at most ${0} levels; an item cannot go inside itself).`,
  'agenda.network': 'Cannot reach the server. The change was not saved.',
  'agenda.invalid': 'Invalid data. Check the title and the minutes.',
  'agenda.invalidState': 'The agenda of a meeting in this state cannot be changed.',
  'agenda.saveFailed': 'The change could not be saved.',
  'agenda.titleRequired': 'Enter a title for the item.',
  'agenda.help': 'Drag the ⠿ handle to reorder. Keyboard: select an item, then Alt+↑/↓ to move it, Alt+→ to make it a sub-item, Alt+← to move it out.',
  'agenda.add': 'Add item',
  'agenda.drag': 'Drag to reorder',
  'agenda.confirmDelete': 'Delete this item and its sub-items?',
  'agenda.delete': 'Delete',
  'agenda.moveUp': 'Up (Alt+↑)',
  'agenda.moveDown': 'Down (Alt+↓)',
  'agenda.outdent': 'Move out (Alt+←)',
  'agenda.indent': 'Make sub-item (Alt+→)',
  'agenda.addSub': 'Add sub-item',
  'agenda.edit': 'Edit',
  'agenda.field.title': 'Title',
  'agenda.field.presenter': 'Presenter',
  'agenda.field.minutes': 'Minutes',
  'agenda.field.description': 'Description',
  'agenda.addConfirm': 'Add',
  'agenda.title': 'Agenda',
  'agenda.moved': str`Moved "${0}" to position ${1}`,
};
