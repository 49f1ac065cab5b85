import { randomUUID } from 'node:crypto';
import { datasetToJson } from '../data/index.js';
import { CommandField, Status } from '../dimse/index.js';
import type { Logger } from '../log.js';
import type { AssociationInfo, NRequest, NResponse, RequestContext } from '../services/server.js';
import type { DicomJsonObject } from './dicom-json.js';
import type { MppsResult, MppsSteps } from './mpps.js';

/** A UID under the 2.25 root made from a random UUID (PS3.5 B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/**
 * Modality Performed Procedure Step SCP (PS3.4 F.7): N-CREATE opens a step (the SCP
 * makes the SOP Instance UID when the requestor leaves it out), N-SET updates it until
 * it is COMPLETED or DISCONTINUED. The rules and their statuses live in {@link MppsSteps}.
 */
export class MppsScp {
  constructor(
    private readonly steps: MppsSteps,
    private readonly log: Logger,
  ) {}

  /**
   * Handle N-CREATE / N-SET; other N-services on MPPS are not offered (0x0211). An N-SET on
   * a step another AE created is put to `authorize` (the server's access policy) first.
   */
  handle(
    request: NRequest,
    association: AssociationInfo,
    authorize?: RequestContext['authorize'],
  ): NResponse {
    const attributes = (request.dataset ? datasetToJson(request.dataset) : {}) as DicomJsonObject;
    let result: MppsResult;
    let sopInstanceUid = request.sopInstanceUid;
    switch (request.commandField) {
      case CommandField.N_CREATE_RQ:
        sopInstanceUid ??= newUid();
        result = this.steps.create(sopInstanceUid, attributes, association.callingAet);
        break;
      case CommandField.N_SET_RQ:
        if (!sopInstanceUid) return { status: Status.NoSuchSopInstance };
        {
          const creator = this.steps.get(sopInstanceUid)?.callingAet;
          const access =
            creator !== undefined && authorize
              ? authorize({ service: 'mpps', stepCreator: creator })
              : undefined;
          if (access && !access.allowed)
            return {
              status: Status.NotAuthorized,
              sopInstanceUid,
              errorComment: `step created by ${creator}; not allowed for ${association.callingAet}`,
            };
        }
        result = this.steps.set(sopInstanceUid, attributes);
        break;
      default:
        return { status: Status.UnrecognizedOperation };
    }
    const verb = request.commandField === CommandField.N_CREATE_RQ ? 'N-CREATE' : 'N-SET';
    if (!result.ok) {
      this.log.warn(
        { association: association.id, sopInstanceUid, status: result.status, errorId: result.errorId },
        `MPPS ${verb} refused: ${result.reason}`,
      );
      return { status: result.status, sopInstanceUid, errorId: result.errorId, errorComment: result.reason };
    }
    this.log.info({ association: association.id, sopInstanceUid, state: result.state }, `MPPS ${verb}`);
    return { status: Status.Success, sopInstanceUid };
  }
}
