import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { Api } from './http/api.js';
import type { Logger } from './log.js';
import type { EventBus } from './events.js';
import type { Notifier } from './notifications/notifications.service.js';

/**
 * What every domain module receives: the database, config, logger, the REST registry, and the
 * in-process event bus that realtime transports (Socket.IO hub, Yjs hub) subscribe to.
 */
export interface AppContext {
  db: Db;
  config: Config;
  log: Logger;
  api: Api;
  notifier: Notifier;
  bus: EventBus;
}
