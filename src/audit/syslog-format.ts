import { SyslogFrameError } from './errors.js';

/**
 * RFC 5424 syslog messages and RFC 5425 octet-counting frames, as pure functions (no I/O):
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`, framed as `MSG-LEN SP SYSLOG-MSG`.
 */

/** Facility authpriv (security/authorization messages), as IHE ATNA ITI-20 uses. */
export const FACILITY_AUTHPRIV = 10;
/** Severity notice: a normal but significant condition. */
export const SEVERITY_NOTICE = 5;
/** Severity warning. */
export const SEVERITY_WARNING = 4;
/** MSGID of an IHE ATNA audit message (ITI TF-2 §3.20). */
export const MSGID_ATNA = 'IHE+RFC-3881';

/** The header fields of one syslog message. */
export interface SyslogHeader {
  facility: number;
  severity: number;
  timestamp: Date;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * A header field: printable US-ASCII (33-126), at most `max` characters; anything else
 * becomes `_` and an empty value the NILVALUE `-` (RFC 5424 §6).
 */
function field(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/**
 * One RFC 5424 message with no structured data. `bom` prefixes MSG with the UTF-8 BOM
 * (RFC 5424 MSG-UTF8); IHE ATNA receivers accept both, and IHE discourages the BOM.
 */
export function formatSyslogMessage(
  header: SyslogHeader,
  msg: string,
  options: { bom?: boolean } = {},
): Buffer {
  const pri = header.facility * 8 + header.severity;
  const head = [
    `<${pri}>1`,
    header.timestamp.toISOString(),
    field(header.hostname, 255),
    field(header.appName, 48),
    field(header.procId, 128),
    field(header.msgId, 32),
    '-',
  ].join(' ');
  const parts = [Buffer.from(`${head} `, 'ascii')];
  if (options.bom) parts.push(BOM);
  parts.push(Buffer.from(msg, 'utf8'));
  return Buffer.concat(parts);
}

/** RFC 5425 §4.3 octet-counting frame: the message length in octets, a space, the message. */
export function frameOctetCounted(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/**
 * Splits an RFC 5425 byte stream into syslog messages (for receivers and tests).
 * Frames longer than `maxLength` octets, or a bad MSG-LEN, throw {@link SyslogFrameError}.
 */
export class OctetCountedParser {
  #buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxLength = 64 * 1024) {}

  /** Feed bytes; returns the complete messages they finish. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const space = this.#buffer.indexOf(0x20);
      if (space < 0) {
        if (this.#buffer.length > 10)
          throw new SyslogFrameError('syslog frame: MSG-LEN longer than 10 digits');
        return out;
      }
      const digits = this.#buffer.subarray(0, space).toString('ascii');
      if (!/^[1-9][0-9]{0,9}$/.test(digits))
        throw new SyslogFrameError(`syslog frame: bad MSG-LEN ${JSON.stringify(digits)}`);
      const length = Number(digits);
      if (length > this.maxLength)
        throw new SyslogFrameError(
          `syslog frame: ${length} octets is more than the ${this.maxLength} allowed`,
        );
      if (this.#buffer.length < space + 1 + length) return out;
      out.push(Buffer.from(this.#buffer.subarray(space + 1, space + 1 + length)));
      this.#buffer = this.#buffer.subarray(space + 1 + length);
    }
  }
}

/** The parts of an RFC 5424 message without structured data (for receivers and tests). */
export interface ParsedSyslogMessage {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  /** MSG as UTF-8, without a leading BOM. */
  msg: string;
  bom: boolean;
}

/** Parse `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG` (structured data must be `-`). */
export function parseSyslogMessage(message: Buffer): ParsedSyslogMessage {
  const match = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-)(?: |$)/.exec(
    message.subarray(0, 1024).toString('latin1'),
  );
  if (!match) throw new SyslogFrameError('syslog message: not an RFC 5424 header with NIL structured data');
  let rest = message.subarray(match[0].length);
  const bom = rest.subarray(0, 3).equals(BOM);
  if (bom) rest = rest.subarray(3);
  return {
    pri: Number(match[1]),
    version: Number(match[2]),
    timestamp: match[3] as string,
    hostname: match[4] as string,
    appName: match[5] as string,
    procId: match[6] as string,
    msgId: match[7] as string,
    structuredData: match[8] as string,
    msg: rest.toString('utf8'),
    bom,
  };
}
