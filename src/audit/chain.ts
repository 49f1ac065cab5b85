import * as crypto from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditMessage } from './message.js';

/**
 * The hash chain of the audit file (tamper evidence). Each line is the JSON of one
 * {@link AuditMessage} with one more member, `chain`: its sequence number and the SHA-256
 * of the previous line's bytes (the whole line, its own `chain` included, without the
 * newline). The first record of a chain has `prev` {@link GENESIS} and `seq` 1; a file
 * started after rotation carries on from the last record of the previous one (its `prev`
 * is that record's hash, its `seq` the next number), so a changed, removed or inserted
 * line breaks the chain at the line after it. Readers that do not know `chain` see one
 * more member of the JSON object and nothing else.
 */

/** The `prev` of the first record of a chain. */
export const GENESIS = '0'.repeat(64);

/** What each chained line carries. */
export interface AuditChainLink {
  /** 1 for the first record of a chain, then +1 per record (across rotated files). */
  seq: number;
  /** SHA-256 (hex) of the previous line, {@link GENESIS} for the first. */
  prev: string;
}

/** A line of the audit file as read back. */
export type ChainedAuditRecord = AuditMessage & { chain: AuditChainLink };

/** The last record of a chain: its sequence number and the hash of its line (seq 0: none yet). */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The head of an empty chain. */
export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS };

/** SHA-256 (hex) of one line's bytes, without its newline. */
export function lineHash(line: string): string {
  return oneShotHash
    ? oneShotHash('sha256', line, 'hex')
    : crypto.createHash('sha256').update(line, 'utf8').digest('hex');
}

// crypto.hash (Node >= 20.12) digests in one call, about twice as fast as createHash for a record
const oneShotHash = (crypto as Partial<typeof crypto>).hash;

/** The line (without newline) of `message` as the record after `head`. */
export function chainedLine(message: AuditMessage, head: ChainHead): string {
  const json = JSON.stringify(message);
  // the link is the last member: appended to the serialized object, no second stringify
  return `${json.slice(0, -1)},"chain":{"seq":${head.seq + 1},"prev":"${head.hash}"}}`;
}

/** The chain link of a line, or undefined when it is not a chained audit record. */
export function linkOf(line: string): AuditChainLink | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const chain = (parsed as { chain?: unknown }).chain;
  if (typeof chain !== 'object' || chain === null) return undefined;
  const { seq, prev } = chain as { seq?: unknown; prev?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (typeof prev !== 'string' || !/^[0-9a-f]{64}$/.test(prev)) return undefined;
  return { seq, prev };
}

/**
 * The last line of an open file (read backwards in chunks, so a long record is read
 * whole), and whether the file ends with a newline; undefined for an empty file.
 */
export function lastLineOf(fd: number): { line: string; terminated: boolean } | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  const chunks: Buffer[] = [];
  let end = size;
  let terminated = false;
  for (let first = true; end > 0; first = false) {
    const start = Math.max(0, end - 65_536);
    const chunk = Buffer.alloc(end - start);
    readSync(fd, chunk, 0, chunk.length, start);
    let view = chunk;
    if (first && view[view.length - 1] === 0x0a) {
      terminated = true;
      view = view.subarray(0, view.length - 1);
    }
    const nl = view.lastIndexOf(0x0a);
    if (nl >= 0) {
      chunks.unshift(view.subarray(nl + 1));
      break;
    }
    chunks.unshift(view);
    end = start;
  }
  return { line: Buffer.concat(chunks).toString('utf8'), terminated };
}

/** The head of the chain in an existing file: its last line's seq and hash. */
export function headOfFile(path: string): ChainHead | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const last = lastLineOf(fd);
    if (!last) return undefined;
    return { seq: linkOf(last.line)?.seq ?? 0, hash: lineHash(last.line) };
  } finally {
    closeSync(fd);
  }
}

/** What {@link verifyAuditChain} found. */
export type ChainVerdict =
  | {
      ok: true;
      /** Chained records read. */
      records: number;
      /** Lines before the first chained record (a file written before the chain existed). */
      unchained: number;
      /** The link of the first record (prev not {@link GENESIS}: it continues an earlier file). */
      first: AuditChainLink | undefined;
      /** The last record: compare it with an anchor kept elsewhere (the collector, the node's log). */
      head: ChainHead;
    }
  | {
      ok: false;
      file: string;
      /** 1-based line number in `file`. */
      line: number;
      problem: 'changed' | 'removed' | 'inserted' | 'not-a-record' | 'not-continued';
      /** One sentence, starting with the file and line. */
      message: string;
    };

interface Seen {
  file: string;
  line: number;
  hash: string;
  seq: number;
}

/**
 * Check the hash chain of one audit file, or of rotated files given oldest first (each
 * must continue the one before). Reads line by line: memory stays small for any size.
 *
 * A break at line j (its `prev` is not the hash of line j-1) is located as precisely as
 * the chain allows: `prev` is the hash of line j-2 → line j-1 was inserted; `seq` jumps
 * → records were removed before line j; else line j-1 was changed. A changed last line
 * or a truncated tail leaves no later line to notice: only the head compared with an
 * anchor kept elsewhere shows it.
 */
export async function verifyAuditChain(files: readonly string[]): Promise<ChainVerdict> {
  let records = 0;
  let unchained = 0;
  let first: AuditChainLink | undefined;
  let before: Seen | undefined; // line j-2
  let last: Seen | undefined; // line j-1
  let chainStarted = false;
  const fail = (
    at: { file: string; line: number },
    problem: Extract<ChainVerdict, { ok: false }>['problem'],
    why: string,
  ): ChainVerdict => ({
    ok: false,
    file: at.file,
    line: at.line,
    problem,
    message: `${at.file} line ${at.line}: ${why}`,
  });

  for (const [fileIndex, file] of files.entries()) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      const here = { file, line: lineNo };
      const link = linkOf(line);
      const hash = lineHash(line);
      if (!link) {
        // lines written before the chain existed may precede it, never follow it
        if (!chainStarted && fileIndex === 0 && isAuditJson(line)) {
          unchained++;
          before = last;
          last = { file, line: lineNo, hash, seq: 0 };
          continue;
        }
        lines.close();
        return fail(here, 'not-a-record', 'not a chained audit record (edited, torn or inserted)');
      }
      if (!chainStarted) {
        chainStarted = true;
        first = link;
        if (last !== undefined && (link.prev !== last.hash || link.seq !== 1)) {
          lines.close();
          return fail(
            here,
            'changed',
            `the chain starts here but does not link to line ${last.line} before it`,
          );
        }
      } else if (last !== undefined) {
        const problem = breakAt(link, last, before);
        if (problem) {
          lines.close();
          if (problem === 'seq')
            return fail(here, 'changed', `changed (its seq ${link.seq} does not follow ${last.seq})`);
          if (problem === 'inserted')
            return fail(at(last), 'inserted', 'inserted (the next record links to the line before it)');
          if (problem === 'removed') {
            const missing = link.seq - last.seq - 1;
            return fail(
              here,
              'removed',
              `${missing} record(s) removed before this line (seq ${last.seq + 1}${missing > 1 ? `-${link.seq - 1}` : ''} missing)`,
            );
          }
          if (lineNo === 1)
            return fail(
              here,
              'not-continued',
              `does not continue ${last.file} (its last record, seq ${last.seq}, has another hash)`,
            );
          return fail(at(last), 'changed', `changed (line ${last.line + 1} does not link to it)`);
        }
      }
      records++;
      before = last;
      last = { file, line: lineNo, hash, seq: link.seq };
    }
  }
  return {
    ok: true,
    records,
    unchained,
    first,
    head: last ? { seq: last.seq, hash: last.hash } : EMPTY_HEAD,
  };
}

function at(seen: Seen): { file: string; line: number } {
  return { file: seen.file, line: seen.line };
}

/** Why `link` does not follow `last`, or undefined when it does. */
function breakAt(
  link: AuditChainLink,
  last: Seen,
  before: Seen | undefined,
): 'changed' | 'removed' | 'inserted' | 'seq' | undefined {
  if (link.prev === last.hash) return link.seq === last.seq + 1 ? undefined : 'seq';
  if (before !== undefined && link.prev === before.hash && link.seq === before.seq + 1) return 'inserted';
  if (link.seq > last.seq + 1) return 'removed';
  return 'changed';
}

function isAuditJson(line: string): boolean {
  try {
    const parsed = JSON.parse(line) as { eventId?: unknown };
    return typeof parsed === 'object' && parsed !== null && typeof parsed.eventId === 'object';
  } catch {
    return false;
  }
}
