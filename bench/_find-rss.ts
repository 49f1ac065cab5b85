// Child of bench/node-index.ts: opens the index at argv[2] and answers one universal IMAGE-level
// C-FIND through the node's own handler, encoding each match as the association would send it.
// Prints `RSS <before kB> <peak kB> <matches>` (peak = VmHWM of this process).
import { datasetFromKeywords, encodeDataset } from '../src/data/index.js';
import { ActivityTracker } from '../src/node/activity.js';
import type { AuditTrail } from '../src/node/audit.js';
import { SqliteIndex } from '../src/node/index.js';
import { findHandler } from '../src/node/service-query.js';
import { SopClass } from '../src/services/sop-classes.js';
import { peakRssKb } from './_peak-rss.js';

async function main(): Promise<void> {
  const index = new SqliteIndex(process.argv[2] as string, { readonly: true });
  const audit = { query: () => undefined } as unknown as AuditTrail;
  const find = findHandler({ index, audit, activity: new ActivityTracker(), maxResults: 0 });
  const query = datasetFromKeywords({
    QueryRetrieveLevel: 'IMAGE',
    PatientID: '',
    PatientName: '',
    StudyInstanceUID: '',
    SeriesInstanceUID: '',
    SOPInstanceUID: '',
    SOPClassUID: '',
    InstanceNumber: '',
  });
  global.gc?.();
  const before = peakRssKb();
  const association = {
    id: 1,
    callingAet: 'BENCH',
    calledAet: 'DICOMNET',
    remoteAddress: '::1',
    remotePort: 1,
  };
  let matches = 0;
  let bytes = 0;
  for await (const match of find(query, {
    association,
    signal: new AbortController().signal,
    sopClassUid: SopClass.StudyRootFind,
  })) {
    bytes += encodeDataset(match, '1.2.840.10008.1.2.1').length;
    matches++;
    // the association writes each response before pulling the next: give the loop a turn
    if (matches % 256 === 0) await new Promise((r) => setImmediate(r));
  }
  index.close();
  console.log(`RSS ${before} ${peakRssKb()} ${matches} ${bytes}`);
}

void main();
