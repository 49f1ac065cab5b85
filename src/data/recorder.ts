import type { ElementHeader, ParseHandler } from './parser.js';

/** One recorded parse handler call (as {@link parseEvents} yields them). */
export type ParseEvent =
  | { type: 'element'; header: ElementHeader; value: Buffer }
  | { type: 'bulkStart'; header: ElementHeader }
  | { type: 'bulkData'; chunk: Buffer }
  | { type: 'bulkEnd' }
  | { type: 'sequenceStart'; header: ElementHeader }
  | { type: 'sequenceEnd' }
  | { type: 'itemStart'; header: ElementHeader }
  | { type: 'itemEnd' }
  | { type: 'fragmentsStart'; header: ElementHeader }
  | { type: 'fragmentsEnd' };

/**
 * A {@link ParseHandler} that records every call, so that a parse can be checked first and
 * replayed to another handler, or its events handed on in batches ({@link parseEvents}).
 */
export class EventRecorder implements ParseHandler {
  events: ParseEvent[] = [];

  element(header: ElementHeader, value: Buffer): void {
    this.events.push({ type: 'element', header, value });
  }
  bulkStart(header: ElementHeader): boolean {
    this.events.push({ type: 'bulkStart', header });
    return true;
  }
  bulkData(chunk: Buffer): void {
    this.events.push({ type: 'bulkData', chunk });
  }
  bulkEnd(): void {
    this.events.push({ type: 'bulkEnd' });
  }
  sequenceStart(header: ElementHeader): void {
    this.events.push({ type: 'sequenceStart', header });
  }
  sequenceEnd(): void {
    this.events.push({ type: 'sequenceEnd' });
  }
  itemStart(header: ElementHeader): void {
    this.events.push({ type: 'itemStart', header });
  }
  itemEnd(): void {
    this.events.push({ type: 'itemEnd' });
  }
  fragmentsStart(header: ElementHeader): void {
    this.events.push({ type: 'fragmentsStart', header });
  }
  fragmentsEnd(): void {
    this.events.push({ type: 'fragmentsEnd' });
  }

  /** True when what was recorded is exactly one sequence holding nothing but items. */
  isOneSequence(): boolean {
    const ev = this.events;
    if (ev.length < 2 || ev[0]!.type !== 'sequenceStart' || ev[ev.length - 1]!.type !== 'sequenceEnd')
      return false;
    let level = 1;
    for (let i = 1; i < ev.length - 1; i++) {
      const t = ev[i]!.type;
      if (level === 1 && t !== 'itemStart') return false;
      if (t === 'sequenceStart' || t === 'itemStart' || t === 'fragmentsStart') level++;
      else if (t === 'sequenceEnd' || t === 'itemEnd' || t === 'fragmentsEnd') level--;
      if (level < 1) return false;
    }
    return level === 1;
  }

  /**
   * Replay to `handler`, the first event with `first` as its header and every other header
   * `depth` levels deeper than recorded.
   */
  replay(handler: ParseHandler, first: ElementHeader, depth: number): void {
    this.events.forEach((e, i) => {
      const header = 'header' in e ? (i === 0 ? first : { ...e.header, depth: e.header.depth + depth }) : undefined;
      switch (e.type) {
        case 'element':
          handler.element(header!, e.value);
          break;
        case 'bulkStart':
          handler.bulkStart(header!);
          break;
        case 'bulkData':
          handler.bulkData(e.chunk);
          break;
        case 'bulkEnd':
          handler.bulkEnd();
          break;
        case 'sequenceStart':
          handler.sequenceStart(header!);
          break;
        case 'sequenceEnd':
          handler.sequenceEnd();
          break;
        case 'itemStart':
          handler.itemStart(header!);
          break;
        case 'itemEnd':
          handler.itemEnd();
          break;
        case 'fragmentsStart':
          handler.fragmentsStart(header!);
          break;
        case 'fragmentsEnd':
          handler.fragmentsEnd();
          break;
      }
    });
  }
}
