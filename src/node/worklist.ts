import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import {
  bulkDataUriPath,
  type DicomJsonAttribute,
  type DicomJsonObject,
  isDicomJsonObject,
  stringValues,
  tagAndVrOf,
} from './dicom-json.js';
import { ConfigError, QueryError } from './errors.js';
import { compileMatcher, type Matcher, parseMatcher, type QueryKey, type ValuesTest } from './matching.js';

interface CompiledKey {
  keyword: string;
  tag: string;
  vr: string;
  matcher: Matcher;
  test: ValuesTest;
  /** Sub-keys of a sequence key (undefined: not a sequence, or the whole sequence is wanted). */
  items?: CompiledKey[];
}

function compile(keys: readonly QueryKey[]): CompiledKey[] {
  return keys.map((key) => {
    const known = tagAndVrOf(key.keyword);
    if (known === undefined)
      throw new QueryError(
        'ERR_QUERY_INVALID',
        `worklist query: unknown attribute keyword ${JSON.stringify(key.keyword)}`,
        key.keyword,
      );
    const { tag } = known;
    const vr = known.vr ?? key.vr;
    if (vr === 'SQ') {
      const matcher: Matcher = { kind: 'universal' };
      const compiled: CompiledKey = { keyword: key.keyword, tag, vr, matcher, test: compileMatcher(matcher) };
      if (key.items && key.items.length > 0) compiled.items = compile(key.items);
      return compiled;
    }
    const matcher = parseMatcher(key, vr);
    return { keyword: key.keyword, tag, vr, matcher, test: compileMatcher(matcher) };
  });
}

function matchItem(item: DicomJsonObject, keys: readonly CompiledKey[]): boolean {
  for (const key of keys) {
    const attribute = item[key.tag];
    if (key.items !== undefined) {
      const constrained = key.items.some((k) => k.matcher.kind !== 'universal' || k.items !== undefined);
      if (!constrained) continue;
      const seq = (attribute?.Value ?? []).filter(isDicomJsonObject);
      // A sequence key matches when one of its items matches all its sub-keys (PS3.4 C.2.2.2.6).
      if (!seq.some((sub) => matchItem(sub, key.items as CompiledKey[]))) return false;
      continue;
    }
    if (!key.test(stringValues(attribute))) return false;
  }
  return true;
}

function project(item: DicomJsonObject, keys: readonly CompiledKey[]): DicomJsonObject {
  const out: DicomJsonObject = {};
  const charset = item['00080005'];
  if (charset) out['00080005'] = charset;
  for (const key of keys) {
    const attribute = item[key.tag];
    if (key.items !== undefined && attribute?.Value !== undefined) {
      const values = attribute.Value.filter(isDicomJsonObject).map((sub) =>
        project(sub, key.items as CompiledKey[]),
      );
      out[key.tag] = { vr: 'SQ', Value: values };
    } else {
      // A requested key the item lacks is returned empty (zero length), as C-FIND requires.
      out[key.tag] = attribute ?? ({ vr: key.vr } satisfies DicomJsonAttribute);
    }
  }
  return out;
}

/** The worklist as the SCP uses it (storage-agnostic; {@link WorklistStore} is the SQLite one). */
export interface Worklist {
  add(id: string, item: DicomJsonObject, source?: string): void;
  remove(id: string): boolean;
  loadDirectory(dir: string): number;
  find(keys: readonly QueryKey[]): Promise<DicomJsonObject[]>;
  count(): number;
}

/** Items read per page of a worklist C-FIND. */
const PAGE_ITEMS = 256;
/** Longest the matching of one C-FIND runs before it lets other work on the event loop. */
const SLICE_MS = 2;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Refuse an item that names a BulkDataURI (the node never resolves one): `where` names it. */
function checkNoBulkData(item: DicomJsonObject, where: string): string | undefined {
  const path = bulkDataUriPath(item);
  return path === undefined
    ? undefined
    : `${where}: attribute ${path} has a BulkDataURI; the node never resolves URIs from data it loads (put the value inline)`;
}

/**
 * Modality Worklist: scheduled procedure steps as DICOM JSON items, loaded from a
 * directory or added through the API, matched in memory (a worklist holds hundreds
 * of items, not millions).
 */
export class WorklistStore implements Worklist {
  readonly #db: Database;
  readonly #insert: Statement<[string, string, string | null, string]>;
  readonly #page: Statement<[number, number], { pk: number; json: string }>;

  constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(
      'INSERT INTO worklist_item (item_id, json, source, added_at) VALUES (?, ?, ?, ?)' +
        ' ON CONFLICT (item_id) DO UPDATE SET json = excluded.json, source = excluded.source, added_at = excluded.added_at',
    );
    this.#page = db.prepare('SELECT pk, json FROM worklist_item WHERE pk > ? ORDER BY pk LIMIT ?');
  }

  /** Add or replace one item under `id`. */
  add(id: string, item: DicomJsonObject, source?: string): void {
    if (!isDicomJsonObject(item))
      throw new QueryError('ERR_QUERY_INVALID', `worklist item ${id}: not a DICOM JSON object`);
    const refused = checkNoBulkData(item, `worklist item ${id}`);
    if (refused !== undefined) throw new QueryError('ERR_QUERY_INVALID', refused);
    this.#insert.run(id, JSON.stringify(item), source ?? null, new Date().toISOString());
  }

  /** Remove one item; true if it existed. */
  remove(id: string): boolean {
    return this.#db.prepare('DELETE FROM worklist_item WHERE item_id = ?').run(id).changes > 0;
  }

  /**
   * Replace every item previously loaded from `dir` with the `*.json` files in it (each one
   * DICOM JSON object or an array of them). Returns the number of items loaded. A file that
   * is not valid JSON, or holds an item that is not a DICOM JSON object or names a
   * BulkDataURI, is a {@link ConfigError} naming the file, and nothing is replaced.
   */
  loadDirectory(dir: string): number {
    const source = resolve(dir);
    const entries: [string, DicomJsonObject][] = [];
    let names: string[];
    try {
      names = readdirSync(source).filter((n) => n.toLowerCase().endsWith('.json'));
    } catch (err) {
      throw new ConfigError(`worklistDir: cannot read ${source}: ${(err as Error).message}`, { cause: err });
    }
    for (const name of names.sort()) {
      const file = join(source, name);
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new ConfigError(`worklist ${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
      }
      const items = Array.isArray(parsed) ? parsed : [parsed];
      items.forEach((item, i) => {
        const where = `worklist ${file}${Array.isArray(parsed) ? `[${i}]` : ''}`;
        if (!isDicomJsonObject(item)) throw new ConfigError(`${where}: not a DICOM JSON object`);
        const refused = checkNoBulkData(item, where);
        if (refused !== undefined) throw new ConfigError(refused);
        entries.push([Array.isArray(parsed) ? `${name}#${i}` : name, item]);
      });
    }
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM worklist_item WHERE source = ?').run(source);
      const now = new Date().toISOString();
      for (const [id, item] of entries)
        this.#insert.run(`${source}/${id}`, JSON.stringify(item), source, now);
    })();
    return entries.length;
  }

  /**
   * C-FIND on the Modality Worklist model: the items matching every key, each reduced to
   * the requested keys (plus SpecificCharacterSet). A sequence key with `items` matches
   * when one of its items matches all the sub-keys. Throws {@link QueryError} on a
   * malformed key or an unknown keyword (rejects at once, before any item is read).
   * Items are read in pages and the matching gives the event loop back every
   * {@link SLICE_MS} ms, so a long worklist never stalls other associations.
   */
  async find(keys: readonly QueryKey[]): Promise<DicomJsonObject[]> {
    const compiled = compile(keys);
    const out: DicomJsonObject[] = [];
    let after = 0;
    let sliceStart = performance.now();
    for (;;) {
      const page = this.#page.all(after, PAGE_ITEMS);
      if (page.length === 0) return out;
      for (const row of page) {
        const item = JSON.parse(row.json) as DicomJsonObject;
        if (matchItem(item, compiled)) out.push(project(item, compiled));
        if (performance.now() - sliceStart >= SLICE_MS) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      after = (page[page.length - 1] as { pk: number }).pk;
    }
  }

  /** Number of items. */
  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM worklist_item').get() as { n: number }).n;
  }
}
