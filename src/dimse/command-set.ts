/** The command set (PS3.7 9.3, group 0000) as plain data, and its Implicit VR Little Endian codec. */
import { hex4 } from './command-field.js';
import { DimseMalformedCommandError, DimseUsageError } from './errors.js';

/** A command element this module has no field for, kept verbatim (implicit VR value bytes). */
export interface UnknownCommandElement {
  /** Element number within group 0000 (the tag is `(0000,element)`). */
  element: number;
  value: Buffer;
}

/**
 * A DIMSE command set (PS3.7 9.3, 10.3, Annex E) as plain data. Group length
 * (0000,0000) is computed on encode; Command Data Set Type (0000,0800) is
 * {@link CommandSet.hasDataset}.
 */
export interface CommandSet {
  /** (0000,0100) Command Field, see `CommandField`. */
  commandField: number;
  /** (0000,0800) Command Data Set Type: false ⇔ 0x0101 (no data set follows). */
  hasDataset: boolean;
  /** (0000,0002) Affected SOP Class UID. */
  affectedSopClassUid?: string;
  /** (0000,0003) Requested SOP Class UID. */
  requestedSopClassUid?: string;
  /** (0000,0110) Message ID. */
  messageId?: number;
  /** (0000,0120) Message ID Being Responded To. */
  messageIdBeingRespondedTo?: number;
  /** (0000,0600) Move Destination (AE title). */
  moveDestination?: string;
  /** (0000,0700) Priority, see `Priority`. */
  priority?: number;
  /** (0000,0900) Status, see `Status`. */
  status?: number;
  /** (0000,0901) Offending Element: tags as `(group << 16) | element`. */
  offendingElement?: number[];
  /** (0000,0902) Error Comment (at most 64 characters are sent). */
  errorComment?: string;
  /** (0000,0903) Error ID. */
  errorId?: number;
  /** (0000,1000) Affected SOP Instance UID. */
  affectedSopInstanceUid?: string;
  /** (0000,1001) Requested SOP Instance UID. */
  requestedSopInstanceUid?: string;
  /** (0000,1002) Event Type ID. */
  eventTypeId?: number;
  /** (0000,1005) Attribute Identifier List: tags as `(group << 16) | element`. */
  attributeIdentifierList?: number[];
  /** (0000,1008) Action Type ID. */
  actionTypeId?: number;
  /** (0000,1020) Number of Remaining Sub-operations. */
  numberOfRemainingSuboperations?: number;
  /** (0000,1021) Number of Completed Sub-operations. */
  numberOfCompletedSuboperations?: number;
  /** (0000,1022) Number of Failed Sub-operations. */
  numberOfFailedSuboperations?: number;
  /** (0000,1023) Number of Warning Sub-operations. */
  numberOfWarningSuboperations?: number;
  /** (0000,1030) Move Originator Application Entity Title. */
  moveOriginatorAet?: string;
  /** (0000,1031) Move Originator Message ID. */
  moveOriginatorMessageId?: number;
  /** Group 0000 elements without a field above (e.g. retired ones), in tag order. */
  unknownElements?: UnknownCommandElement[];
}

type StringVr = 'UI' | 'AE' | 'LO';
type StringKey =
  | 'affectedSopClassUid'
  | 'requestedSopClassUid'
  | 'moveDestination'
  | 'errorComment'
  | 'affectedSopInstanceUid'
  | 'requestedSopInstanceUid'
  | 'moveOriginatorAet';
type UsKey =
  | 'commandField'
  | 'messageId'
  | 'messageIdBeingRespondedTo'
  | 'priority'
  | 'status'
  | 'errorId'
  | 'eventTypeId'
  | 'actionTypeId'
  | 'numberOfRemainingSuboperations'
  | 'numberOfCompletedSuboperations'
  | 'numberOfFailedSuboperations'
  | 'numberOfWarningSuboperations'
  | 'moveOriginatorMessageId';
type AtKey = 'offendingElement' | 'attributeIdentifierList';

type FieldSpec =
  | { element: number; name: string; vr: StringVr; key: StringKey; maxLength: number }
  | { element: number; name: string; vr: 'US'; key: UsKey }
  | { element: number; name: string; vr: 'AT'; key: AtKey };

const GROUP_LENGTH = 0x0000;
const COMMAND_DATA_SET_TYPE = 0x0800;
/** Command Data Set Type value meaning "no data set"; any other value means one follows. */
export const NO_DATASET = 0x0101;
/** The value sent when a data set follows (PS3.7 accepts any value other than 0x0101). */
export const DATASET_PRESENT = 0x0001;

const FIELDS: readonly FieldSpec[] = [
  { element: 0x0002, name: 'Affected SOP Class UID', vr: 'UI', key: 'affectedSopClassUid', maxLength: 64 },
  { element: 0x0003, name: 'Requested SOP Class UID', vr: 'UI', key: 'requestedSopClassUid', maxLength: 64 },
  { element: 0x0100, name: 'Command Field', vr: 'US', key: 'commandField' },
  { element: 0x0110, name: 'Message ID', vr: 'US', key: 'messageId' },
  { element: 0x0120, name: 'Message ID Being Responded To', vr: 'US', key: 'messageIdBeingRespondedTo' },
  { element: 0x0600, name: 'Move Destination', vr: 'AE', key: 'moveDestination', maxLength: 16 },
  { element: 0x0700, name: 'Priority', vr: 'US', key: 'priority' },
  { element: 0x0900, name: 'Status', vr: 'US', key: 'status' },
  { element: 0x0901, name: 'Offending Element', vr: 'AT', key: 'offendingElement' },
  { element: 0x0902, name: 'Error Comment', vr: 'LO', key: 'errorComment', maxLength: 64 },
  { element: 0x0903, name: 'Error ID', vr: 'US', key: 'errorId' },
  {
    element: 0x1000,
    name: 'Affected SOP Instance UID',
    vr: 'UI',
    key: 'affectedSopInstanceUid',
    maxLength: 64,
  },
  {
    element: 0x1001,
    name: 'Requested SOP Instance UID',
    vr: 'UI',
    key: 'requestedSopInstanceUid',
    maxLength: 64,
  },
  { element: 0x1002, name: 'Event Type ID', vr: 'US', key: 'eventTypeId' },
  { element: 0x1005, name: 'Attribute Identifier List', vr: 'AT', key: 'attributeIdentifierList' },
  { element: 0x1008, name: 'Action Type ID', vr: 'US', key: 'actionTypeId' },
  {
    element: 0x1020,
    name: 'Number of Remaining Sub-operations',
    vr: 'US',
    key: 'numberOfRemainingSuboperations',
  },
  {
    element: 0x1021,
    name: 'Number of Completed Sub-operations',
    vr: 'US',
    key: 'numberOfCompletedSuboperations',
  },
  { element: 0x1022, name: 'Number of Failed Sub-operations', vr: 'US', key: 'numberOfFailedSuboperations' },
  {
    element: 0x1023,
    name: 'Number of Warning Sub-operations',
    vr: 'US',
    key: 'numberOfWarningSuboperations',
  },
  { element: 0x1030, name: 'Move Originator AE Title', vr: 'AE', key: 'moveOriginatorAet', maxLength: 16 },
  { element: 0x1031, name: 'Move Originator Message ID', vr: 'US', key: 'moveOriginatorMessageId' },
];

const FIELD_BY_ELEMENT = new Map<number, FieldSpec>(FIELDS.map((f) => [f.element, f]));

interface EncodedElement {
  element: number;
  value: Buffer;
}

/**
 * Encode a command set in implicit VR little endian, elements in tag order,
 * group length first. Throws {@link DimseUsageError} for values that cannot be
 * encoded (a US out of 0..65535, a UID with characters other than digits and
 * dots, an AE title longer than 16, …). An error comment is cut to 64
 * characters and non-ASCII characters become `?`: it is informational and must
 * never stop a response from being sent.
 */
export function encodeCommandSet(cmd: CommandSet): Buffer {
  const elements: EncodedElement[] = [];
  for (const spec of FIELDS) {
    const value = cmd[spec.key];
    if (value === undefined) continue;
    elements.push({ element: spec.element, value: encodeFieldValue(spec, value) });
  }
  elements.push({ element: COMMAND_DATA_SET_TYPE, value: us(cmd.hasDataset ? DATASET_PRESENT : NO_DATASET) });
  for (const unknown of cmd.unknownElements ?? []) {
    const { element, value } = unknown;
    if (!Number.isInteger(element) || element <= 0 || element > 0xffff) {
      throw invalid(`unknown command element number ${element} is not in 0x0001..0xFFFF`);
    }
    if (FIELD_BY_ELEMENT.has(element) || element === COMMAND_DATA_SET_TYPE) {
      throw invalid(`unknown command element (0000,${hex4(element)}) duplicates a known field`);
    }
    if (value.length % 2 !== 0)
      throw invalid(`command element (0000,${hex4(element)}) has odd length ${value.length}`);
    elements.push({ element, value });
  }
  elements.sort((a, b) => a.element - b.element);
  for (let i = 1; i < elements.length; i++) {
    if (elements[i]!.element === elements[i - 1]!.element) {
      throw invalid(`command element (0000,${hex4(elements[i]!.element)}) given twice`);
    }
  }
  let groupLength = 0;
  for (const e of elements) groupLength += 8 + e.value.length;
  const out = Buffer.allocUnsafe(12 + groupLength);
  out.writeUInt32LE(GROUP_LENGTH, 0);
  out.writeUInt32LE(4, 4);
  out.writeUInt32LE(groupLength, 8);
  let offset = 12;
  for (const e of elements) {
    out.writeUInt16LE(0x0000, offset);
    out.writeUInt16LE(e.element, offset + 2);
    out.writeUInt32LE(e.value.length, offset + 4);
    e.value.copy(out, offset + 8);
    offset += 8 + e.value.length;
  }
  return out;
}

function encodeFieldValue(spec: FieldSpec, value: CommandSet[keyof CommandSet]): Buffer {
  switch (spec.vr) {
    case 'US': {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
        throw invalid(`${spec.name} must be an integer in 0..65535, got ${String(value)}`);
      }
      return us(value);
    }
    case 'AT': {
      if (!Array.isArray(value)) throw invalid(`${spec.name} must be an array of tags`);
      const out = Buffer.allocUnsafe(value.length * 4);
      value.forEach((tag: unknown, i: number) => {
        if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0 || tag > 0xffffffff) {
          throw invalid(`${spec.name} item ${i} is not a 32-bit tag: ${String(tag)}`);
        }
        out.writeUInt16LE(tag >>> 16, i * 4);
        out.writeUInt16LE(tag & 0xffff, i * 4 + 2);
      });
      return out;
    }
    default:
      if (typeof value !== 'string') throw invalid(`${spec.name} must be a string`);
      return encodeString(spec, value);
  }
}

function encodeString(spec: Extract<FieldSpec, { vr: StringVr }>, value: string): Buffer {
  let text = value;
  if (spec.vr === 'LO') {
    text = value.replace(/[^\x20-\x7e]/g, '?').slice(0, spec.maxLength);
  } else if (spec.vr === 'UI') {
    if (!/^[0-9.]*$/.test(value))
      throw invalid(`${spec.name} "${value}" has characters other than digits and dots`);
  } else if (!/^[\x20-\x7e]*$/.test(value) || value.includes('\\')) {
    throw invalid(`${spec.name} "${value}" has characters not allowed in an AE title`);
  }
  if (text.length > spec.maxLength) {
    throw invalid(
      `${spec.name} "${value}" is ${text.length} characters long, at most ${spec.maxLength} allowed`,
    );
  }
  const padded = text.length % 2 === 0 ? text : text + (spec.vr === 'UI' ? '\0' : ' ');
  return Buffer.from(padded, 'latin1');
}

function us(value: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16LE(value, 0);
  return b;
}

function invalid(message: string): DimseUsageError {
  return new DimseUsageError('ERR_DIMSE_INVALID_COMMAND', `cannot encode command set: ${message}`);
}

/**
 * Decode an implicit VR little endian command set. Bounded: every length is
 * checked against the bytes present before anything is read or allocated.
 * Throws {@link DimseMalformedCommandError} for any malformation, including a
 * missing Command Field or Command Data Set Type, elements outside group 0000,
 * duplicated elements and wrong value lengths. The group length value is not
 * trusted (the element list is read to the end of `bytes`).
 */
export function decodeCommandSet(bytes: Buffer): CommandSet {
  const fields: Partial<Record<StringKey, string> & Record<UsKey, number> & Record<AtKey, number[]>> = {};
  const unknownElements: UnknownCommandElement[] = [];
  const seen = new Set<number>();
  let dataSetType: number | undefined;
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 8) {
      throw malformed(
        `${bytes.length - offset} trailing byte(s) at offset ${offset} are too few for an element header`,
      );
    }
    const group = bytes.readUInt16LE(offset);
    const element = bytes.readUInt16LE(offset + 2);
    const length = bytes.readUInt32LE(offset + 4);
    // formatted only for an error message: this runs for every element of every message
    const tag = () => `(${hex4(group)},${hex4(element)})`;
    if (group !== 0x0000)
      throw malformed(`element ${tag()} at offset ${offset} is not in command group 0000`);
    if (length > bytes.length - offset - 8) {
      throw malformed(
        `element ${tag()} at offset ${offset} claims ${length} bytes, only ${bytes.length - offset - 8} left`,
      );
    }
    if (seen.has(element)) throw malformed(`element ${tag()} appears twice`);
    seen.add(element);
    const value = bytes.subarray(offset + 8, offset + 8 + length);
    offset += 8 + length;
    if (element === GROUP_LENGTH) {
      if (length !== 4) throw malformed(`Command Group Length ${tag()} has length ${length}, expected 4`);
      continue;
    }
    if (element === COMMAND_DATA_SET_TYPE) {
      dataSetType = readUs(value, 'Command Data Set Type', tag);
      continue;
    }
    const spec = FIELD_BY_ELEMENT.get(element);
    if (spec === undefined) {
      unknownElements.push({ element, value: Buffer.from(value) });
      continue;
    }
    switch (spec.vr) {
      case 'US':
        fields[spec.key] = readUs(value, spec.name, tag);
        break;
      case 'AT': {
        if (length % 4 !== 0)
          throw malformed(`${spec.name} ${tag()} has length ${length}, not a multiple of 4`);
        const tags: number[] = [];
        for (let i = 0; i < length; i += 4)
          tags.push(((value.readUInt16LE(i) << 16) | value.readUInt16LE(i + 2)) >>> 0);
        fields[spec.key] = tags;
        break;
      }
      default:
        fields[spec.key] = decodeString(value, spec.vr);
    }
  }
  if (fields.commandField === undefined) throw malformed('Command Field (0000,0100) is missing');
  if (dataSetType === undefined) throw malformed('Command Data Set Type (0000,0800) is missing');
  const cmd: CommandSet = {
    ...fields,
    commandField: fields.commandField,
    hasDataset: dataSetType !== NO_DATASET,
  };
  if (unknownElements.length > 0) cmd.unknownElements = unknownElements;
  return cmd;
}

function readUs(value: Buffer, name: string, tag: () => string): number {
  if (value.length !== 2) throw malformed(`${name} ${tag()} has length ${value.length}, expected 2`);
  return value.readUInt16LE(0);
}

function decodeString(value: Buffer, vr: StringVr): string {
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x00 || value[end - 1] === 0x20)) end--;
  let start = 0;
  if (vr === 'AE') while (start < end && value[start] === 0x20) start++;
  return value.toString('latin1', start, end);
}

function malformed(message: string): DimseMalformedCommandError {
  return new DimseMalformedCommandError(`malformed DIMSE command set: ${message}`);
}
