import { EventEmitter } from 'node:events';

/**
 * Facts that committed domain changes announce in-process, after the transaction. Realtime
 * transports subscribe; services never import a transport.
 */
export interface DomainEvents {
  'agenda:changed': [{ meetingId: number; version: number }];
  'meeting:changed': [{ meetingId: number }];
  /** A user's first socket joined / last socket left a meeting's room (realtime hub). */
  'presence:changed': [{ meetingId: number; userId: number; online: boolean }];
}

export class EventBus extends EventEmitter<DomainEvents> {}
