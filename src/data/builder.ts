import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BulkDataRef, type DataElement, Dataset, type EncapsulatedPixelData } from './dataset.js';
import type { ElementHeader, ParseHandler } from './parser.js';
import { Tags } from './tag.js';

/** Receives one large value's bytes and says what the element should hold afterwards. */
export interface BulkSink {
  write(chunk: Buffer): void;
  end(): Buffer | BulkDataRef;
  /** The parse failed before {@link end}: release what the sink holds (e.g. an open file). */
  abort?(): void;
}

/** How a {@link DatasetBuilder} keeps values above the bulk threshold. */
export type BulkPolicy =
  /** Reading a file: keep `{ kind: 'bulk', file, offset, length }` and skip the bytes. */
  | { kind: 'file-range'; file: string; bigEndian: boolean }
  /** Write them to a temporary file and keep a reference to it. */
  | { kind: 'spill'; directory?: string }
  /** Hand them to a caller-provided sink (e.g. pass through to a network peer). */
  | { kind: 'sink'; open: (h: ElementHeader) => BulkSink }
  /** Keep them in memory (only for input already held in memory). */
  | { kind: 'memory' };

let spillDir: string | undefined;

function spillSink(h: ElementHeader, directory?: string): BulkSink {
  if (!spillDir) {
    spillDir = directory ?? mkdtempSync(join(tmpdir(), 'dicomnet-bulk-'));
    if (!directory) {
      const created = spillDir;
      // spilled values live as long as the process: remove them when it exits
      process.once('exit', () => rmSync(created, { recursive: true, force: true }));
    }
  }
  const file = join(spillDir, `${h.valueOffset}-${Date.now()}-${Math.random().toString(36).slice(2)}.bin`);
  const fd = openSync(file, 'w');
  let length = 0;
  return {
    write(chunk) {
      writeSync(fd, chunk);
      length += chunk.length;
    },
    end() {
      closeSync(fd);
      return { kind: 'bulk', file, offset: 0, length, temporary: true };
    },
    abort() {
      closeSync(fd);
      unlinkSync(file);
    },
  };
}

function memorySink(): BulkSink {
  const parts: Buffer[] = [];
  return {
    write: (c) => parts.push(Buffer.from(c)),
    end: () => Buffer.concat(parts),
  };
}

interface SeqFrame {
  owner: Dataset;
  element: DataElement;
  items: Dataset[];
}

/** A {@link ParseHandler} that assembles a {@link Dataset}. */
export class DatasetBuilder implements ParseHandler {
  /** The data set being built. */
  readonly dataset: Dataset;
  private current: Dataset;
  private readonly seqs: SeqFrame[] = [];
  private fragments: EncapsulatedPixelData | undefined;
  private fragmentsOwner: Dataset | undefined;
  private firstFragment = false;
  private bulkHeader: ElementHeader | undefined;
  private sink: BulkSink | undefined;
  private fileRef: BulkDataRef | undefined;
  /** Temporary files holding values of this data set (deleted by {@link abort}). */
  private readonly spilled: BulkDataRef[] = [];

  constructor(
    private readonly policy: BulkPolicy = { kind: 'memory' },
    root?: Dataset,
  ) {
    this.dataset = root ?? new Dataset();
    this.current = this.dataset;
  }

  private store(h: ElementHeader, value: Buffer | BulkDataRef): void {
    if (this.fragments && h.tag === Tags.Item) {
      if (this.firstFragment) {
        this.firstFragment = false;
        this.fragments.offsetTable = Buffer.isBuffer(value) ? value : Buffer.alloc(0);
        if (!Buffer.isBuffer(value)) this.fragments.fragments.push(value);
      } else {
        this.fragments.fragments.push(value);
      }
      return;
    }
    this.current.setElement(
      h.encodedVR === undefined
        ? { tag: h.tag, vr: h.vr, value }
        : { tag: h.tag, vr: h.vr, value, encodedVR: h.encodedVR },
    );
  }

  element(h: ElementHeader, value: Buffer): void {
    this.store(h, value);
  }

  /**
   * The parse failed: release the sink of a value cut short (a spill file's descriptor) and
   * delete the temporary files spilled for this data set, which nobody will read.
   */
  abort(): void {
    const sink = this.sink;
    this.sink = undefined;
    this.bulkHeader = undefined;
    if (sink?.abort) sink.abort();
    for (const ref of this.spilled) rmSync(ref.file, { force: true });
    this.spilled.length = 0;
  }

  bulkStart(h: ElementHeader): boolean {
    this.bulkHeader = h;
    switch (this.policy.kind) {
      case 'file-range':
        this.fileRef = {
          kind: 'bulk',
          file: this.policy.file,
          offset: h.valueOffset,
          length: h.length,
          ...(this.policy.bigEndian ? { bigEndian: true } : {}),
        };
        return false;
      case 'spill':
        this.sink = spillSink(h, this.policy.directory);
        return true;
      case 'sink':
        this.sink = this.policy.open(h);
        return true;
      default:
        this.sink = memorySink();
        return true;
    }
  }

  bulkData(chunk: Buffer): void {
    this.sink!.write(chunk);
  }

  bulkEnd(): void {
    const h = this.bulkHeader!;
    const value = this.fileRef ?? this.sink!.end();
    if (!Buffer.isBuffer(value) && value.temporary) this.spilled.push(value);
    this.fileRef = undefined;
    this.sink = undefined;
    this.bulkHeader = undefined;
    this.store(h, value);
  }

  sequenceStart(h: ElementHeader): void {
    const element: DataElement = {
      tag: h.tag,
      vr: h.vr,
      value: [],
      undefinedLength: h.length === 0xffffffff,
    };
    if (h.encodedVR !== undefined) element.encodedVR = h.encodedVR;
    this.current.setElement(element);
    this.seqs.push({ owner: this.current, element, items: element.value as Dataset[] });
  }

  sequenceEnd(): void {
    const frame = this.seqs.pop()!;
    this.current = frame.owner;
  }

  itemStart(h: ElementHeader): void {
    const frame = this.seqs[this.seqs.length - 1]!;
    const item = new Dataset(frame.owner);
    item.undefinedLength = h.length === 0xffffffff;
    frame.items.push(item);
    this.current = item;
  }

  itemEnd(): void {
    this.current = this.seqs[this.seqs.length - 1]!.owner;
  }

  fragmentsStart(h: ElementHeader): void {
    this.fragments = { kind: 'encapsulated', offsetTable: Buffer.alloc(0), fragments: [] };
    this.fragmentsOwner = this.current;
    this.firstFragment = true;
    this.current.setElement({ tag: h.tag, vr: h.vr, value: this.fragments, undefinedLength: true });
  }

  fragmentsEnd(): void {
    this.fragments = undefined;
    this.current = this.fragmentsOwner ?? this.current;
    this.fragmentsOwner = undefined;
  }
}
