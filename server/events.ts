import { EventEmitter } from 'node:events';

/**
 * Facts that committed domain changes announce in-process, after the transaction. Realtime
 * transports subscribe; services never import a transport.
 */
export interface DomainEvents {
  'agenda:changed': [{ meetingId: number; version: number }];
  'meeting:changed': [{ meetingId: number }];
}

export class EventBus extends EventEmitter<DomainEvents> {}
