/** Building DIMSE responses: the response command to a request, with a status. */
import { responseFieldFor } from './command-field.js';
import type { CommandSet } from './command-set.js';

/**
 * The response to `request` with `status` and no data set: the response command field, the
 * Message ID answered, and the request's SOP class and instance (affected or requested) as the
 * affected ones.
 */
export function responseTo(request: CommandSet, status: number): CommandSet {
  const rsp: CommandSet = {
    commandField: responseFieldFor(request.commandField),
    messageIdBeingRespondedTo: request.messageId,
    status,
    hasDataset: false,
  };
  const sopClass = request.affectedSopClassUid ?? request.requestedSopClassUid;
  if (sopClass !== undefined) rsp.affectedSopClassUid = sopClass;
  const instance = request.affectedSopInstanceUid ?? request.requestedSopInstanceUid;
  if (instance !== undefined) rsp.affectedSopInstanceUid = instance;
  return rsp;
}
