import { Agenda, AgendaItemParams, CreateAgendaItemBody, DeleteAgendaItemQuery, MoveAgendaItemBody, UpdateAgendaItemBody } from '../../shared/protocol/agenda.js';
import { IdParams } from '../../shared/protocol/common.js';
import type { AppContext } from '../context.js';
import { createItem, deleteItem, getAgenda, moveItem, updateItem } from './agenda.service.js';

/** Agenda preparation. Every write carries the agenda `version`; each returns the whole new agenda. */
export function agendaRoutes(ctx: AppContext): void {
  const { api } = ctx;
  const tags = ['agenda'];
  api.route(
    { method: 'get', path: '/api/meetings/:id/agenda', summary: 'The agenda in display order', tags, access: 'user', params: IdParams, response: Agenda },
    ({ user, params }) => getAgenda(ctx, user, params.id),
  );
  api.route(
    { method: 'post', path: '/api/meetings/:id/agenda/items', summary: 'Add an agenda item', tags, access: 'user', params: IdParams, body: CreateAgendaItemBody, response: Agenda, status: 201 },
    ({ user, params, body }) => createItem(ctx, user, params.id, body),
  );
  api.route(
    { method: 'patch', path: '/api/meetings/:id/agenda/items/:itemId', summary: 'Edit an agenda item', tags, access: 'user', params: AgendaItemParams, body: UpdateAgendaItemBody, response: Agenda },
    ({ user, params, body }) => updateItem(ctx, user, params.id, params.itemId, body),
  );
  api.route(
    { method: 'post', path: '/api/meetings/:id/agenda/items/:itemId/move', summary: 'Move an item (reorder or re-parent)', tags, access: 'user', params: AgendaItemParams, body: MoveAgendaItemBody, response: Agenda },
    ({ user, params, body }) => moveItem(ctx, user, params.id, params.itemId, body),
  );
  api.route(
    { method: 'delete', path: '/api/meetings/:id/agenda/items/:itemId', summary: 'Remove an item and its sub-items', tags, access: 'user', params: AgendaItemParams, query: DeleteAgendaItemQuery, response: Agenda },
    ({ user, params, query }) => deleteItem(ctx, user, params.id, params.itemId, query.version),
  );
}
