import { hostname } from 'node:os';
import type { AuditMessage, AuditSink } from './message.js';
import {
  FACILITY_AUTHPRIV,
  formatSyslogMessage,
  MSGID_ATNA,
  SEVERITY_NOTICE,
  SEVERITY_WARNING,
} from './syslog-format.js';
import type { SyslogTlsSender } from './syslog-tls.js';
import { auditMessageXml } from './xml.js';

/** Header choices of {@link SyslogAuditSink}. */
export interface SyslogAuditOptions {
  /** APP-NAME (default `dicomnet`). */
  appName?: string;
  /** HOSTNAME (default the machine's host name). */
  hostname?: string;
  /** Prefix MSG with the UTF-8 BOM (default false, as IHE recommends). */
  bom?: boolean;
}

/**
 * Sends each audit message to a syslog collector as IHE ATNA does (ITI-20): the DICOM
 * audit message XML as MSG, facility authpriv, MSGID `IHE+RFC-3881`, severity notice for
 * successes and warning for failures.
 */
export class SyslogAuditSink implements AuditSink {
  readonly #header: { appName: string; hostname: string; procId: string };
  readonly #bom: boolean;

  constructor(
    readonly sender: SyslogTlsSender,
    options: SyslogAuditOptions = {},
  ) {
    this.#header = {
      appName: options.appName ?? 'dicomnet',
      hostname: options.hostname ?? hostname(),
      procId: String(process.pid),
    };
    this.#bom = options.bom ?? false;
  }

  write(message: AuditMessage): void {
    const syslog = formatSyslogMessage(
      {
        ...this.#header,
        facility: FACILITY_AUTHPRIV,
        severity: message.eventOutcomeIndicator === 0 ? SEVERITY_NOTICE : SEVERITY_WARNING,
        timestamp: new Date(message.eventDateTime),
        msgId: MSGID_ATNA,
      },
      auditMessageXml(message),
      { bom: this.#bom },
    );
    this.sender.send(syslog);
  }

  async close(deadlineMs: number): Promise<void> {
    await this.sender.close(deadlineMs);
  }
}
