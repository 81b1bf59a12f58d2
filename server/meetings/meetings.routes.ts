import { IdParams } from '../../shared/protocol/common.js';
import { CreateMeetingBody, Meeting, MeetingList, MeetingListQuery, UpdateMeetingBody } from '../../shared/protocol/meetings.js';
import type { AppContext } from '../context.js';
import { meetingAccess } from './meetings.access.js';
import { createMeeting, listMeetings, meetingView, publishMeeting, updateMeeting } from './meetings.service.js';

/** Meetings: list, read, create, edit, publish. */
export function meetingRoutes(ctx: AppContext): void {
  const { api, store } = ctx;
  const tags = ['meetings'];
  api.route(
    { method: 'get', path: '/api/meetings', summary: 'Meetings I may see', tags, access: 'user', query: MeetingListQuery, response: MeetingList },
    async ({ user, query }) => ({ meetings: await listMeetings(store, user, query.scope, query.committeeId) }),
  );
  api.route(
    { method: 'post', path: '/api/meetings', summary: 'Create a draft meeting (committee secretary)', tags, access: 'user', body: CreateMeetingBody, response: Meeting, status: 201 },
    ({ user, body }) => createMeeting(ctx, user, body),
  );
  api.route(
    { method: 'get', path: '/api/meetings/:id', summary: 'One meeting with its participants', tags, access: 'user', params: IdParams, response: Meeting },
    async ({ user, params }) => meetingView(store, await meetingAccess(store, user, params.id)),
  );
  api.route(
    { method: 'patch', path: '/api/meetings/:id', summary: 'Edit a meeting (optimistic concurrency by version)', tags, access: 'user', params: IdParams, body: UpdateMeetingBody, response: Meeting },
    ({ user, params, body }) => updateMeeting(ctx, user, params.id, body),
  );
  api.route(
    { method: 'post', path: '/api/meetings/:id/publish', summary: 'Publish the meeting and notify participants', tags, access: 'user', params: IdParams, response: Meeting },
    ({ user, params }) => publishMeeting(ctx, user, params.id),
  );
}
