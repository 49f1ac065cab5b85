/**
 * Command Field (0000,0100) values, PS3.7 Annex E. Responses are the request
 * value with bit 15 set.
 */
export const CommandField = {
  C_STORE_RQ: 0x0001,
  C_STORE_RSP: 0x8001,
  C_GET_RQ: 0x0010,
  C_GET_RSP: 0x8010,
  C_FIND_RQ: 0x0020,
  C_FIND_RSP: 0x8020,
  C_MOVE_RQ: 0x0021,
  C_MOVE_RSP: 0x8021,
  C_ECHO_RQ: 0x0030,
  C_ECHO_RSP: 0x8030,
  N_EVENT_REPORT_RQ: 0x0100,
  N_EVENT_REPORT_RSP: 0x8100,
  N_GET_RQ: 0x0110,
  N_GET_RSP: 0x8110,
  N_SET_RQ: 0x0120,
  N_SET_RSP: 0x8120,
  N_ACTION_RQ: 0x0130,
  N_ACTION_RSP: 0x8130,
  N_CREATE_RQ: 0x0140,
  N_CREATE_RSP: 0x8140,
  N_DELETE_RQ: 0x0150,
  N_DELETE_RSP: 0x8150,
  C_CANCEL_RQ: 0x0fff,
} as const;

/** One of the {@link CommandField} values. */
export type CommandFieldValue = (typeof CommandField)[keyof typeof CommandField];

/** Priority (0000,0700) values, PS3.7 Annex E. */
export const Priority = {
  Medium: 0x0000,
  High: 0x0001,
  Low: 0x0002,
} as const;

const SERVICE_NAMES = new Map<number, string>([
  [0x0001, 'C-STORE'],
  [0x0010, 'C-GET'],
  [0x0020, 'C-FIND'],
  [0x0021, 'C-MOVE'],
  [0x0030, 'C-ECHO'],
  [0x0100, 'N-EVENT-REPORT'],
  [0x0110, 'N-GET'],
  [0x0120, 'N-SET'],
  [0x0130, 'N-ACTION'],
  [0x0140, 'N-CREATE'],
  [0x0150, 'N-DELETE'],
  [0x0fff, 'C-CANCEL'],
]);

/** True for response command fields (bit 15 set). */
export function isResponse(commandField: number): boolean {
  return (commandField & 0x8000) !== 0;
}

/** The service of a request or response field, e.g. `C-STORE`; `0x1234` style for unknown values. */
export function serviceName(commandField: number): string {
  return SERVICE_NAMES.get(commandField & 0x7fff) ?? `0x${hex4(commandField & 0x7fff)}`;
}

/** The full name of a command field, e.g. `C-STORE-RSP`; `0x1234` style for unknown values. */
export function commandFieldName(commandField: number): string {
  const service = SERVICE_NAMES.get(commandField & 0x7fff);
  if (service === undefined || (service === 'C-CANCEL' && isResponse(commandField)))
    return `0x${hex4(commandField)}`;
  return `${service}-${isResponse(commandField) ? 'RSP' : 'RQ'}`;
}

/** The response field answering a request field. */
export function responseFieldFor(requestField: number): number {
  return (requestField | 0x8000) & 0xffff;
}

/** Four upper-case hex digits. */
export function hex4(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, '0');
}
