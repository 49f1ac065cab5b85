import { type Dataset, datasetFromJson, datasetFromKeywords } from '../data/index.js';
import { lookupTag } from '../data/dictionary.js';
import { Status, statusCategory } from '../dimse/index.js';
import type { RequestContext, RetrieveOutcome } from '../services/server.js';
import { SopClass } from '../services/sop-classes.js';
import { type AuditOutcome, type AuditTrail, type StudyTransfer, studyCounts } from './audit.js';
import type { ActivityTracker } from './activity.js';
import { QueryError } from './errors.js';
import type { Index, RetrieveItem } from './index-db.js';
import type { QueryKey } from './matching.js';
import type { QueryLevel, QueryModel } from './query-attributes.js';

/**
 * C-FIND query keys of an identifier (everything but the level and the character set).
 * A sequence key carries the keys of its first item as `items` (PS3.4 C.2.2.2.6).
 */
export function queryKeysOf(query: Dataset): QueryKey[] {
  const keys: QueryKey[] = [];
  for (const element of query) {
    const entry = lookupTag(element.tag);
    if (!entry || entry.keyword === 'QueryRetrieveLevel' || entry.keyword === 'SpecificCharacterSet')
      continue;
    if (element.vr === 'SQ') {
      const key: QueryKey = { keyword: entry.keyword, vr: 'SQ', value: '' };
      const first = query.getSequence(element.tag)?.[0];
      if (first) key.items = queryKeysOf(first);
      keys.push(key);
      continue;
    }
    keys.push({
      keyword: entry.keyword,
      vr: element.vr,
      value: query.getStrings(element.tag)?.join('\\') ?? '',
    });
  }
  return keys;
}

/** The information model of a C-FIND / C-MOVE / C-GET SOP class. */
export function modelOf(sopClassUid: string): QueryModel | 'worklist' {
  if (sopClassUid === SopClass.ModalityWorklistFind) return 'worklist';
  return sopClassUid.startsWith('1.2.840.10008.5.1.4.1.2.1.') ? 'patient' : 'study';
}

/** The Query/Retrieve Level of an identifier; a missing or unknown level is a {@link QueryError}. */
export function levelOf(query: Dataset): QueryLevel {
  const level = (query.getString('QueryRetrieveLevel') ?? '').trim().toUpperCase();
  if (level === 'PATIENT' || level === 'STUDY' || level === 'SERIES' || level === 'IMAGE') return level;
  // the value is the peer's, and reaches the log and the audit trail: name the key only
  throw new QueryError(
    'ERR_QUERY_INVALID',
    level === ''
      ? 'QueryRetrieveLevel is missing'
      : 'QueryRetrieveLevel is not PATIENT, STUDY, SERIES or IMAGE',
    'QueryRetrieveLevel',
  );
}

/** Default of `limits.maxQueryResults`. */
export const DEFAULT_MAX_QUERY_RESULTS = 100000;

/** What the Q/R handlers need from the node. */
export interface QueryServiceOptions {
  index: Index;
  audit: AuditTrail;
  activity: ActivityTracker;
  /**
   * Most matches one C-FIND returns (`limits.maxQueryResults`; 0 or undefined = no bound):
   * a query matching more ends, after that many pending responses, with 0xA700 and an
   * Error Comment.
   */
  maxResults?: number;
}

/** Failure 0xA700 "Out of resources": the query matched more than the node returns. */
export class QueryResultsExceeded extends QueryError {
  /** Carried to the C-FIND response by the server. */
  override readonly status = Status.OutOfResources;
  constructor(readonly maxResults: number) {
    super('ERR_QUERY_TOO_MANY_RESULTS', `more than ${maxResults} matches (limits.maxQueryResults)`);
  }
}

/**
 * C-FIND SCP on the patient root, study root and Modality Worklist models. A malformed
 * identifier throws {@link QueryError} before the first match, which the server answers
 * with a failure status (the association lives on). Matches are pulled from the index one
 * at a time as the server writes each pending response, so memory per query is constant.
 */
export function findHandler(options: QueryServiceOptions) {
  const { index, audit, activity } = options;
  const max = options.maxResults !== undefined && options.maxResults > 0 ? options.maxResults : Infinity;
  return async function* find(query: Dataset, ctx: RequestContext): AsyncIterable<Dataset> {
    const peer = ctx.association;
    const model = modelOf(ctx.sopClassUid);
    const keys = queryKeysOf(query);
    activity.of(peer).queries++;
    const keywords = keys.map((k) => k.keyword);
    let level: QueryLevel | undefined;
    let sent = 0;
    let failure: unknown;
    let complete = false;
    try {
      let matches: Iterable<Dataset> | AsyncIterable<Dataset>;
      if (model === 'worklist') {
        matches = (await index.findWorklist(keys)).map((item) => datasetFromJson(item));
      } else {
        level = levelOf(query);
        const lvl = level;
        matches = map(index.find(model, lvl, flat(keys)), (match) =>
          datasetFromKeywords({ ...match, QueryRetrieveLevel: lvl }),
        );
      }
      for await (const match of matches) {
        if (sent >= max) throw new QueryResultsExceeded(max);
        sent++;
        yield match;
      }
      complete = true;
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      // also when the server stops pulling (C-CANCEL, association gone)
      const detail = { level, keys: keywords, ...(complete || sent > 0 ? { matches: sent } : {}) };
      if (failure !== undefined)
        audit.query(
          peer,
          ctx.sopClassUid,
          detail,
          4,
          failure instanceof Error ? failure.message : String(failure),
        );
      else if (complete) audit.query(peer, ctx.sopClassUid, detail);
      else audit.query(peer, ctx.sopClassUid, detail, 4, `cancelled after ${sent} matches`);
    }
  };
}

async function* map<T, U>(items: AsyncIterable<T>, fn: (item: T) => U): AsyncGenerator<U> {
  for await (const item of items) yield fn(item);
}

/** The stored files a C-MOVE / C-GET identifier designates. */
export async function retrieveItems(
  index: Index,
  query: Dataset,
  sopClassUid: string,
): Promise<RetrieveItem[]> {
  const model = modelOf(sopClassUid);
  if (model === 'worklist') throw new QueryError('ERR_QUERY_INVALID', 'the worklist model has no retrieve');
  return index.filesFor(model, levelOf(query), flat(queryKeysOf(query)));
}

/** Patient/study root keys: sequence keys are return keys only (their item keys are not matched). */
function flat(keys: QueryKey[]): QueryKey[] {
  return keys.map(({ items: _items, ...key }) => key);
}

/** The items of a retrieve whose C-STORE sub-operation stored them (success or warning). */
export function transferredItems(items: readonly RetrieveItem[], outcome: RetrieveOutcome): RetrieveItem[] {
  const byPath = new Map(items.map((i) => [i.path, i]));
  const sent: RetrieveItem[] = [];
  for (const { file, status } of outcome.results) {
    const category = statusCategory(status);
    const item = byPath.get(file);
    if (item && (category === 'success' || category === 'warning')) sent.push(item);
  }
  return sent;
}

/**
 * The audit outcome of a retrieve that sent `sent` instances: 0 when every selected one was
 * sent, 4 (minor failure) when some failed or the requestor cancelled, 8 (serious failure)
 * when it was stopped by an error (destination unreachable, unreadable file).
 */
export function retrieveAuditOutcome(
  outcome: RetrieveOutcome,
  sent: number,
): { outcome: AuditOutcome; description?: string } {
  if (outcome.error === undefined && !outcome.cancelled && sent === outcome.selected) return { outcome: 0 };
  const failed = outcome.results.length - sent;
  const why = [`${sent} of ${outcome.selected} instances sent`];
  if (failed > 0) why.push(`${failed} sub-operations failed`);
  if (outcome.cancelled) why.push('cancelled');
  if (outcome.error !== undefined)
    why.push(`stopped: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`);
  return { outcome: outcome.error !== undefined ? 8 : 4, description: why.join('; ') };
}

/** Instances and patient per study of a retrieve (for the audit trail). */
export function studiesOf(items: readonly RetrieveItem[]): Map<string, StudyTransfer> {
  return studyCounts(items);
}
