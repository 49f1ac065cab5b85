/** Receiving DIMSE messages: PDVs joined into command sets and data sets, a data set sent to memory, a sink or nowhere. */
import type { Writable } from 'node:stream';
import { toError } from '../errors.js';
import type { Pdv } from '../network/channel.js';
import { commandFieldName } from './command-field.js';
import { type CommandSet, decodeCommandSet } from './command-set.js';
import { DimseProtocolError } from './errors.js';

/** Default cap on a data set buffered in memory (no sink chosen). */
export const DEFAULT_MAX_BUFFERED_DATASET_BYTES = 64 * 1024 * 1024;
/** Default cap on an encoded command set; real ones are a few hundred bytes. */
export const DEFAULT_MAX_COMMAND_BYTES = 1024 * 1024;

/** A complete DIMSE message as reassembled from PDVs. */
export interface ReassembledMessage {
  contextId: number;
  command: CommandSet;
  /** The data set bytes when they were buffered in memory. */
  dataset?: Buffer;
  /** Data set bytes received when they went to a sink. */
  datasetBytes?: number;
  /** Set when the sink failed: the bytes after the failure were dropped, the message is still delivered so it can be answered. */
  datasetError?: Error;
}

/**
 * Where an incoming data set goes, chosen after its command arrived: a Writable
 * (e.g. a temporary file), `'discard'` (count the bytes, keep nothing — for a
 * request that will be refused anyway), or undefined to buffer it in memory.
 * A chooser that throws has the data set discarded and the message delivered
 * with `datasetError`.
 */
export type DatasetSinkChooser = (command: CommandSet, contextId: number) => Writable | 'discard' | undefined;

/** Pause/resume of the PDV source (the channel). */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

/** Options of {@link MessageReassembler}. */
export interface ReassemblerOptions {
  /** Receives complete messages, in the order their commands arrived. Must not throw (a throw is dropped). */
  onMessage: (message: ReassembledMessage) => void;
  /** Paused while a sink is over its high-water mark. */
  flow: FlowControl;
  /**
   * True when `contextId` names an accepted presentation context; absent when the channel
   * already guarantees it ({@link AssociationChannel.acceptedContextsOnly}).
   */
  isAcceptedContext?: (contextId: number) => boolean;
  /** Chosen once per message with a data set, before its bytes arrive. */
  chooseSink?: DatasetSinkChooser;
  maxBufferedDatasetBytes?: number;
  maxCommandBytes?: number;
  /**
   * Copy PDV bytes that are kept beyond the push (default true). False only when the channel
   * never reuses a delivered PDV's buffer ({@link AssociationChannel.pdvDataIsStable}).
   */
  copyPdvData?: boolean;
}

type State =
  | { kind: 'idle' }
  | { kind: 'command'; contextId: number; chunks: Buffer[]; bytes: number }
  | { kind: 'dataset'; contextId: number; command: CommandSet; target: DatasetTarget }
  | { kind: 'closed' };

/**
 * Turns the PDV stream of one association into DIMSE messages (PS3.7 6.3.1,
 * PS3.8 Annex E): command fragments, then — when Command Data Set Type says so —
 * data fragments, all on one presentation context. Anything else throws a
 * {@link DimseProtocolError}; the caller aborts the association.
 */
export class MessageReassembler {
  private state: State = { kind: 'idle' };
  private delivery: Promise<void> = Promise.resolve();
  private readonly gate: FlowGate;
  private readonly maxBuffered: number;
  private readonly maxCommand: number;
  private readonly copy: boolean;
  /** Sinks whose data set is complete but which have not finished writing yet. */
  private readonly finishing = new Set<DatasetTarget>();

  constructor(private readonly options: ReassemblerOptions) {
    this.gate = new FlowGate(options.flow);
    this.maxBuffered = options.maxBufferedDatasetBytes ?? DEFAULT_MAX_BUFFERED_DATASET_BYTES;
    this.maxCommand = options.maxCommandBytes ?? DEFAULT_MAX_COMMAND_BYTES;
    this.copy = options.copyPdvData ?? true;
  }

  /** Feed one PDV. Throws on a protocol violation, after which the reassembler ignores further input. */
  push(pdv: Pdv): void {
    if (this.state.kind === 'closed') return;
    try {
      this.step(pdv);
    } catch (err) {
      this.close(toError(err));
      throw err;
    }
  }

  /** Resolves once every message completed so far has been handed to `onMessage`. */
  settled(): Promise<void> {
    return this.delivery;
  }

  /** Stop: ignore further PDVs; destroy the sink being written (that message is dropped) and sinks still flushing (those messages arrive with `datasetError`). */
  close(reason: Error): void {
    const state = this.state;
    this.state = { kind: 'closed' };
    if (state.kind === 'dataset') state.target.abort(reason);
    // Nothing will be answered any more: stop sinks still flushing so delivery settles.
    for (const target of this.finishing) target.abort(reason);
    this.finishing.clear();
    this.gate.releaseAll();
  }

  private step(pdv: Pdv): void {
    const state = this.state;
    if (this.options.isAcceptedContext && !this.options.isAcceptedContext(pdv.contextId)) {
      throw new DimseProtocolError(
        'ERR_DIMSE_UNKNOWN_CONTEXT',
        `PDV on presentation context ${pdv.contextId}, which is not an accepted context of this association`,
      );
    }
    switch (state.kind) {
      case 'idle':
        if (!pdv.command) {
          throw sequence(
            `data set fragment on context ${pdv.contextId} without a command announcing a data set`,
          );
        }
        this.state = { kind: 'command', contextId: pdv.contextId, chunks: [], bytes: 0 };
        this.commandFragment(pdv);
        return;
      case 'command':
        if (pdv.contextId !== state.contextId) {
          throw sequence(
            `command fragment on context ${pdv.contextId} while the command on context ${state.contextId} is incomplete`,
          );
        }
        if (!pdv.command)
          throw sequence(`data set fragment before the command on context ${state.contextId} was complete`);
        this.commandFragment(pdv);
        return;
      case 'dataset': {
        const what = `${commandFieldName(state.command.commandField)} (message ${messageIdOf(state.command)})`;
        if (pdv.command) throw sequence(`command fragment before the data set of ${what} was complete`);
        if (pdv.contextId !== state.contextId) {
          throw sequence(
            `data set fragment on context ${pdv.contextId}, but ${what} is on context ${state.contextId}`,
          );
        }
        state.target.write(pdv.data, what);
        if (pdv.last) {
          this.state = { kind: 'idle' };
          const { contextId, command, target } = state;
          this.finishing.add(target);
          const done = target.end().finally(() => this.finishing.delete(target));
          this.deliverAfter(done, (result) => ({ contextId, command, ...result }));
        }
        return;
      }
      default:
        return;
    }
  }

  private commandFragment(pdv: Pdv): void {
    const state = this.state;
    if (state.kind !== 'command') return;
    if (state.bytes + pdv.data.length > this.maxCommand) {
      throw new DimseProtocolError(
        'ERR_DIMSE_COMMAND_TOO_LARGE',
        `command set on context ${state.contextId} exceeds ${this.maxCommand} bytes`,
      );
    }
    state.chunks.push(this.copy ? Buffer.from(pdv.data) : pdv.data);
    state.bytes += pdv.data.length;
    if (!pdv.last) return;
    const command = decodeCommandSet(
      state.chunks.length === 1 ? state.chunks[0]! : Buffer.concat(state.chunks),
    );
    const contextId = state.contextId;
    if (!command.hasDataset) {
      this.state = { kind: 'idle' };
      this.deliverAfter(Promise.resolve({}), () => ({ contextId, command }));
      return;
    }
    this.state = { kind: 'dataset', contextId, command, target: this.targetFor(command, contextId) };
  }

  private targetFor(command: CommandSet, contextId: number): DatasetTarget {
    let sink: Writable | 'discard' | undefined;
    try {
      sink = this.options.chooseSink?.(command, contextId);
    } catch (err) {
      return new DiscardTarget(toError(err));
    }
    if (sink === 'discard') return new DiscardTarget();
    return sink ? new SinkTarget(sink, this.gate, this.copy) : new MemoryTarget(this.maxBuffered, this.copy);
  }

  private deliverAfter(
    done: Promise<DatasetResult>,
    build: (result: DatasetResult) => ReassembledMessage,
  ): void {
    this.delivery = this.delivery
      .then(async () => this.options.onMessage(build(await done)))
      .catch(() => undefined);
  }
}

type DatasetResult = Pick<ReassembledMessage, 'dataset' | 'datasetBytes' | 'datasetError'>;

interface DatasetTarget {
  write(data: Buffer, what: string): void;
  end(): Promise<DatasetResult>;
  abort(reason: Error): void;
}

class MemoryTarget implements DatasetTarget {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly copy: boolean,
  ) {}

  write(data: Buffer, what: string): void {
    if (this.bytes + data.length > this.limit) {
      throw new DimseProtocolError(
        'ERR_DIMSE_DATASET_TOO_LARGE',
        `data set of ${what} exceeds the in-memory limit of ${this.limit} bytes (maxBufferedDatasetBytes)`,
      );
    }
    // The channel may reuse its receive buffer: keep a copy unless it says it never does.
    this.chunks.push(this.copy ? Buffer.from(data) : data);
    this.bytes += data.length;
  }

  end(): Promise<DatasetResult> {
    const dataset = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    this.chunks.length = 0;
    return Promise.resolve({ dataset });
  }

  abort(): void {
    this.chunks.length = 0;
  }
}

/** Counts a data set's bytes and drops them. */
class DiscardTarget implements DatasetTarget {
  private bytes = 0;

  constructor(private readonly error?: Error) {}

  write(data: Buffer): void {
    this.bytes += data.length;
  }

  end(): Promise<DatasetResult> {
    return Promise.resolve(
      this.error ? { datasetBytes: this.bytes, datasetError: this.error } : { datasetBytes: this.bytes },
    );
  }

  abort(): void {}
}

/** Writes a data set to a consumer's Writable, pausing the channel while the sink is full. */
class SinkTarget implements DatasetTarget {
  private bytes = 0;
  private error: Error | undefined;
  private settled = false;
  private readonly finished: Promise<void>;

  constructor(
    private readonly sink: Writable,
    private readonly gate: FlowGate,
    private readonly copy: boolean,
  ) {
    this.finished = new Promise((resolve) => {
      const onError = (err: Error) => {
        this.error ??= err;
        done();
      };
      const onClose = () => {
        if (!sink.writableFinished)
          this.error ??= new Error('the data set sink closed before it finished writing');
        done();
      };
      const done = () => {
        this.settled = true;
        sink.off('finish', done);
        sink.off('error', onError);
        sink.off('close', onClose);
        this.gate.release(this);
        resolve();
      };
      sink.on('finish', done);
      sink.on('error', onError);
      sink.on('close', onClose);
      // A sink handed over already destroyed would never emit 'close' again.
      if (sink.destroyed) onClose();
    });
  }

  write(data: Buffer): void {
    this.bytes += data.length;
    if (this.error || this.sink.destroyed) return;
    // The channel may reuse its receive buffer while the sink still queues this chunk
    // (unless it says it never does).
    if (!this.sink.write(this.copy ? Buffer.from(data) : data) && !this.gate.holds(this)) {
      this.gate.hold(this);
      this.sink.once('drain', () => this.gate.release(this));
    }
  }

  async end(): Promise<DatasetResult> {
    if (!this.error && !this.sink.destroyed) this.sink.end();
    else this.gate.release(this);
    await this.finished;
    return this.error ? { datasetBytes: this.bytes, datasetError: this.error } : { datasetBytes: this.bytes };
  }

  abort(reason: Error): void {
    this.gate.release(this);
    // After 'finish' our error listener is gone: destroying then could raise an unhandled 'error'.
    if (!this.settled) this.sink.destroy(reason);
  }
}

/** Pauses the channel while any holder needs it paused. */
class FlowGate {
  private readonly holders = new Set<object>();

  constructor(private readonly flow: FlowControl) {}

  holds(holder: object): boolean {
    return this.holders.has(holder);
  }

  hold(holder: object): void {
    if (this.holders.has(holder)) return;
    this.holders.add(holder);
    if (this.holders.size === 1) this.flow.pause();
  }

  release(holder: object): void {
    if (!this.holders.delete(holder)) return;
    if (this.holders.size === 0) this.flow.resume();
  }

  releaseAll(): void {
    if (this.holders.size === 0) return;
    this.holders.clear();
    this.flow.resume();
  }
}

function sequence(message: string): DimseProtocolError {
  return new DimseProtocolError('ERR_DIMSE_PDV_SEQUENCE', `DIMSE message sequence violated: ${message}`);
}

function messageIdOf(command: CommandSet): string {
  return String(command.messageId ?? command.messageIdBeingRespondedTo ?? '?');
}
