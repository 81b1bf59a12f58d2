/*
 * The live meeting's API (server/live): attendance and quorum, opening/pausing/closing, the current
 * agenda item, the speakers' list and the floor, what the presenter shows. Every command is async on
 * the store (`LiveDb`: the store and, for other domains' synchronous helpers, the legacy `db`), runs
 * inside the caller's `store.tx` and throws AppError; nothing here knows about
 * sockets (live.socket.ts does). The reads are live.state.ts, the commands live.attendance.ts,
 * live.control.ts and live.floor.ts; other domains import them from here.
 */
export {
  type AvFloorSettings,
  type LiveDb,
  avFloorSettings,
  liveSnapshot,
  loadAttendanceState,
  loadSpeakersState,
  meetingLiveState,
  presenterState,
  speakingTimes,
} from './live.state.js';
export { checkIn, markAbsent, setProxy } from './live.attendance.js';
export { addUrgentItem, changeStatus, markItem, moveCurrent, openMeeting, saveAvFloorSettings, showPage } from './live.control.js';
export { endFloor, endTurn, grantFloor, nextSpeaker, removeRequest, reorderQueue, requestFloor, withdrawRequest } from './live.floor.js';
