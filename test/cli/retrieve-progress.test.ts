import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createRetrieveProgress } from '../../src/cli/retrieve-progress.js';

function sink(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as Writable & { isTTY: boolean; text: () => string; columns?: number; cursorTo?: unknown };
  w.isTTY = isTTY;
  w.text = () => text;
  if (isTTY) {
    // what cli-progress needs from a terminal
    Object.assign(w, {
      columns: 120,
      cursorTo: (_x: number, _y?: unknown, cb?: () => void) => (typeof cb === 'function' ? cb() : true),
      clearLine: (_d: number, cb?: () => void) => (typeof cb === 'function' ? cb() : true),
      moveCursor: (_x: number, _y: number, cb?: () => void) => (typeof cb === 'function' ? cb() : true),
    });
  }
  return w;
}

test('move/get progress: plain lines when not a TTY', () => {
  const out = sink(false);
  const p = createRetrieveProgress(out);
  p.update({ status: 0xff00, remaining: 2, completed: 1, failed: 0, warning: 0 });
  p.update({ status: 0, remaining: 0, completed: 3, failed: 0, warning: 0 });
  p.stop();
  assert.equal(
    out.text(),
    'status 0xFF00: remaining 2, completed 1, failed 0, warning 0\nstatus 0x0000: remaining 0, completed 3, failed 0, warning 0\n',
  );
});

test('move/get progress: a bar with done/total and failures on a TTY; nothing when quiet', () => {
  const out = sink(true);
  const p = createRetrieveProgress(out);
  p.update({ status: 0xff00, remaining: 3, completed: 1, failed: 0, warning: 0 });
  p.update({ status: 0xb000, remaining: 0, completed: 3, failed: 1, warning: 0 });
  p.stop();
  assert.match(out.text(), /4\/4 \| failed 1 \| warning 0/);
  const quiet = sink(true);
  const q = createRetrieveProgress(quiet, true);
  q.update({ status: 0xff00, remaining: 1, completed: 1 });
  q.stop();
  assert.equal(quiet.text(), '');
});
