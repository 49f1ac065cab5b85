/**
 * Shared machinery of the fuzz targets: the target shape used by the CI slice
 * (test/fuzz/fuzz.test.ts) and the long run (scripts/fuzz.mjs), the per-input
 * invariants (only typed errors, a time budget, bounded allocations) and the
 * byte mutators applied to valid encodings.
 */
import fc from 'fast-check';

/** Parameters a run may pass to fast-check. */
export interface FuzzParams {
  numRuns: number;
  seed?: number;
  path?: string;
  /** Stop a run after this many milliseconds (fast-check `interruptAfterTimeLimit`). */
  timeLimitMs?: number;
}

/** The outcome of one target's run, in a form a script can print. */
export interface FuzzOutcome {
  failed: boolean;
  interrupted: boolean;
  numRuns: number;
  seed: number;
  path: string | undefined;
  counterexample: unknown;
  error: string | undefined;
}

/** One property over one decoder. */
export interface FuzzTarget {
  /** The decoder it exercises (the filter of scripts/fuzz.mjs), e.g. `pdu`. */
  decoder: string;
  /** What it checks, e.g. `mutated valid PDUs decode or fail with PduParseError`. */
  name: string;
  /** Runs in the CI slice. */
  ciRuns: number;
  /** Cap on the runs of the long run, for targets whose cases are heavy (deflate bombs). */
  maxRuns?: number;
  check(params: FuzzParams): Promise<FuzzOutcome>;
}

/** Wrap a fast-check property as a {@link FuzzTarget}. */
export function target<Ts extends unknown[]>(
  decoder: string,
  name: string,
  ciRuns: number,
  property: () => fc.IRawProperty<Ts, boolean>,
  maxRuns?: number,
): FuzzTarget {
  return {
    decoder,
    name,
    ciRuns,
    ...(maxRuns === undefined ? {} : { maxRuns }),
    async check(params) {
      const details = await fc.check(property(), {
        numRuns: params.numRuns,
        ...(params.seed === undefined ? {} : { seed: params.seed }),
        ...(params.path === undefined ? {} : { path: params.path }),
        ...(params.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: params.timeLimitMs }),
        // the long run prints one failure and its minimised input; no need to log every shrink
        endOnFailure: false,
      });
      return {
        failed: details.failed,
        interrupted: details.interrupted,
        numRuns: details.numRuns,
        seed: details.seed,
        path: details.counterexamplePath ?? undefined,
        counterexample: details.counterexample ?? undefined,
        error: details.errorInstance ? describeError(details.errorInstance) : undefined,
      };
    },
  };
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}\n${err.stack ?? ''}`;
  return String(err);
}

/** Constructors of the errors a decoder may throw on purpose. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** CPU milliseconds one input may take (env FUZZ_CASE_BUDGET_MS); a hang is the watchdog's job. */
export const CASE_BUDGET_MS = Number(process.env.FUZZ_CASE_BUDGET_MS ?? 2000);

/** A failure of an invariant (not of the decoder's input checks). */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/**
 * Run `fn` on one input: it may return or throw one of `allowed`; anything else
 * (TypeError, RangeError, a stack overflow, …) fails the property, as does
 * taking more CPU time than the case budget (twice in a row) or asking for a buffer larger than
 * `maxAlloc` bytes. Returns the result, or undefined when a typed error was thrown.
 */
export function expectTyped<T>(
  allowed: readonly ErrorClass[],
  fn: () => T,
  maxAlloc = DEFAULT_MAX_ALLOC,
): T | undefined {
  const once = (): { result: T | undefined; cpuMs: number } => {
    const started = process.cpuUsage();
    allocTracker.reset();
    let result: T | undefined;
    try {
      result = fn();
    } catch (err) {
      if (!allowed.some((cls) => err instanceof cls)) throw err;
    }
    return { result, cpuMs: cpuMsSince(started) };
  };
  let run = once();
  // over budget: measure again before blaming the input (the box may have stalled the process)
  if (run.cpuMs > CASE_BUDGET_MS) run = once();
  checkBudget(run.cpuMs, maxAlloc);
  return run.result;
}

/** {@link expectTyped} for async decoders. */
export async function expectTypedAsync<T>(
  allowed: readonly ErrorClass[],
  fn: () => Promise<T>,
  maxAlloc = DEFAULT_MAX_ALLOC,
): Promise<T | undefined> {
  const once = async (): Promise<{ result: T | undefined; cpuMs: number }> => {
    const started = process.cpuUsage();
    allocTracker.reset();
    let result: T | undefined;
    try {
      result = await fn();
    } catch (err) {
      if (!allowed.some((cls) => err instanceof cls)) throw err;
    }
    return { result, cpuMs: cpuMsSince(started) };
  };
  let run = await once();
  if (run.cpuMs > CASE_BUDGET_MS) run = await once();
  checkBudget(run.cpuMs, maxAlloc);
  return run.result;
}

/** CPU time (user + system) of this process since `start`, in ms: immune to the box being busy. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function checkBudget(cpuMs: number, maxAlloc: number): void {
  if (cpuMs > CASE_BUDGET_MS)
    throw new InvariantError(
      `one input took ${cpuMs.toFixed(0)} ms of CPU, over the ${CASE_BUDGET_MS} ms budget`,
    );
  if (allocTracker.largest > maxAlloc)
    throw new InvariantError(
      `one input made a ${allocTracker.largest}-byte Buffer allocation, over the ${maxAlloc}-byte bound`,
    );
}

/** Largest single Buffer allocation an input of a few KiB may cause by default. */
export const DEFAULT_MAX_ALLOC = 1024 * 1024;

/**
 * Records the largest size passed to Buffer.alloc / allocUnsafe / allocUnsafeSlow
 * by the code under test: a decoder that sizes a buffer from an untrusted length
 * field shows up here even when the allocation would succeed. (Node's internal
 * allocations, e.g. inside Buffer.concat, are not seen; they are sized from data
 * already present.)
 */
const allocTracker = (() => {
  const state = { largest: 0 };
  const wrap = <F extends (size: number, ...rest: never[]) => Buffer>(f: F): F =>
    ((size: number, ...rest: never[]) => {
      if (size > state.largest) state.largest = size;
      return f(size, ...rest);
    }) as F;
  Buffer.alloc = wrap(Buffer.alloc.bind(Buffer));
  Buffer.allocUnsafe = wrap(Buffer.allocUnsafe.bind(Buffer));
  Buffer.allocUnsafeSlow = wrap(Buffer.allocUnsafeSlow.bind(Buffer));
  return {
    get largest() {
      return state.largest;
    },
    reset() {
      state.largest = 0;
    },
  };
})();

/**
 * Where the long run's watchdog finds the input being processed when a case
 * hangs: a shared buffer installed by scripts/fuzz.mjs (4-byte length, then the
 * bytes, then a 4-byte case counter at the end). Absent in the CI slice.
 */
let shared: { view: Uint8Array; counter: Int32Array } | undefined;

/** Installed by the long-run worker. */
export function installWatchdogBuffer(sab: SharedArrayBuffer): void {
  const view = new Uint8Array(sab, 0, sab.byteLength - 4);
  shared = { view, counter: new Int32Array(sab, sab.byteLength - 4, 1) };
}

/** Note the input about to be decoded (for the watchdog) and count the case. */
export function noteInput(input: Uint8Array | string): void {
  if (!shared) return;
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const n = Math.min(bytes.length, shared.view.length - 4);
  new DataView(shared.view.buffer, shared.view.byteOffset, 4).setUint32(0, bytes.length, true);
  shared.view.set(bytes.subarray(0, n), 4);
  Atomics.add(shared.counter, 0, 1);
}

// ---- byte mutators --------------------------------------------------------------

/** Length values that trip decoders: zero, odd, just past the end, undefined length, huge. */
const INTERESTING_U32 = [
  0, 1, 2, 3, 4, 6, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000, 0x7fffffff,
  0x80000000, 0xfffffffe, 0xffffffff,
];

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'length'; at: number; value: number; width: 2 | 4; bigEndian: boolean; relative: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'duplicate'; at: number; count: number; to: number }
  | { op: 'splice'; at: number; from: number; count: number };

const position = fc.nat({ max: 0xffff });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: position, value: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({
    op: fc.constant('length' as const),
    at: position,
    value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 0xffffffff })),
    width: fc.constantFrom(2 as const, 4 as const),
    bigEndian: fc.boolean(),
    relative: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    op: fc.constant('duplicate' as const),
    at: position,
    count: fc.integer({ min: 1, max: 64 }),
    to: position,
  }),
  fc.record({
    op: fc.constant('splice' as const),
    at: position,
    from: position,
    count: fc.integer({ min: 1, max: 64 }),
  }),
);

/** Apply mutations; `length` either writes an interesting value or nudges the existing one. */
export function applyMutations(input: Buffer, mutations: readonly Mutation[], donor?: Buffer): Buffer {
  let b = Buffer.from(input);
  for (const m of mutations) {
    const len = b.length;
    const at = len === 0 ? 0 : m.at % len;
    switch (m.op) {
      case 'flip':
        if (len > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (len > 0) b[at] = m.value;
        break;
      case 'truncate':
        b = b.subarray(0, m.at % (len + 1));
        break;
      case 'length': {
        if (len < m.width) break;
        const p = m.at % (len - m.width + 1);
        const read = (): number =>
          m.width === 2
            ? m.bigEndian
              ? b.readUInt16BE(p)
              : b.readUInt16LE(p)
            : m.bigEndian
              ? b.readUInt32BE(p)
              : b.readUInt32LE(p);
        const max = m.width === 2 ? 0xffff : 0xffffffff;
        const v = m.relative !== 0 ? (read() + m.relative) >>> 0 : m.value;
        const value = Math.min(v, max) >>> 0;
        if (m.width === 2) {
          if (m.bigEndian) b.writeUInt16BE(value, p);
          else b.writeUInt16LE(value, p);
        } else if (m.bigEndian) b.writeUInt32BE(value, p);
        else b.writeUInt32LE(value, p);
        break;
      }
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
        break;
      case 'duplicate': {
        const piece = b.subarray(at, at + m.count);
        const to = len === 0 ? 0 : m.to % len;
        b = Buffer.concat([b.subarray(0, to), piece, b.subarray(to)]);
        break;
      }
      case 'splice': {
        const src = donor ?? b;
        if (src.length === 0) break;
        const from = m.from % src.length;
        b = Buffer.concat([b.subarray(0, at), src.subarray(from, from + m.count), b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}

/** A valid encoding, mutated 1–4 times (bit flips, truncation, length corruption, splicing with a second encoding). */
export function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  // a second encoding to splice from, one time in four (generating it is most of the cost)
  const donor = fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: valid, weight: 1 });
  return fc
    .tuple(valid, donor, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([a, d, ms]) => applyMutations(a, ms, d));
}

/** Raw random bytes. */
export function randomBytes(maxLength = 512): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ maxLength }).map((u) => Buffer.from(u));
}

/** Valid, mutated and random inputs, in proportions that favour structure. */
export function bytesFrom(valid: fc.Arbitrary<Buffer>, maxRandom = 512): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: valid, weight: 1 },
    { arbitrary: mutated(valid), weight: 6 },
    { arbitrary: randomBytes(maxRandom), weight: 2 },
  );
}

/** Deep equality for assertions inside properties (fast-check records have a null prototype). */
export function plain<T>(v: T): T {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return Buffer.from(v) as T;
  if (Array.isArray(v)) return v.map(plain) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
  return out as T;
}
