import { Writable } from 'node:stream';
import { DimseEndpoint, type DimseEndpointOptions } from '../../src/dimse/index.js';
import { createChannelPair, type FakeChannel, type FakeChannelOptions } from './fake-channel.js';

export interface EndpointPair {
  /** Requestor side channel and endpoint. */
  a: FakeChannel;
  scu: DimseEndpoint;
  /** Acceptor side channel and endpoint. */
  b: FakeChannel;
  scp: DimseEndpoint;
}

/** Two endpoints over connected fake channels. */
export function endpointPair(
  options: FakeChannelOptions & {
    scu?: DimseEndpointOptions;
    scp?: DimseEndpointOptions;
    /** Adjust the channels (e.g. their negotiated windows) before the endpoints see them. */
    configure?: (a: FakeChannel, b: FakeChannel) => void;
  } = {},
): EndpointPair {
  const [a, b] = createChannelPair(options);
  options.configure?.(a, b);
  return { a, b, scu: new DimseEndpoint(a, options.scu), scp: new DimseEndpoint(b, options.scp) };
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolve when `condition()` holds, polling once per event-loop turn. */
export async function until(condition: () => boolean, what: string, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A sink that keeps what it is given. */
export class MemorySink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
