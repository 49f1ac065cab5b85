import { statSync } from 'node:fs';
import type { Command } from 'commander';
import {
  datasetToJson,
  dumpFileText,
  fileBulkDataUri,
  readBulkData,
  readPart10,
  Tags,
  validateDataset,
} from '../../data/index.js';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

/** Values above this stay in the file while dumping (pixel data is printed as a reference). */
const DUMP_BULK_THRESHOLD = 1024 * 1024;

export function registerDump(program: Command, ctx: CliContext): void {
  program
    .command('dump')
    .description('print a DICOM file like dcmdump, or its DICOM JSON model (PS3.18 F.2) with --json')
    .argument('<file>', 'DICOM file (Part 10, or a bare data set)')
    .option('--json', 'print the DICOM JSON model of the data set (one JSON object)')
    .option(
      '--validate',
      'list, per element, what breaks the encoding rules of PS3.5 (VR, VM, length, characters)',
    )
    .action(async (file: string, opts: { json?: boolean; validate?: boolean }) => {
      try {
        if (!statSync(file).isFile()) throw new UsageError('ERR_NOT_A_FILE', `dump: ${file} is not a file`);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(
          'ERR_NO_FILE',
          `dump: cannot open ${file}: ${(err as NodeJS.ErrnoException).code}`,
        );
      }
      // the text dump shows what could be read of a damaged file, then the error (as dcmdump
      // does); --json prints one clean object or nothing
      const parsed = await readPart10(file, {
        bulkDataThreshold: DUMP_BULK_THRESHOLD,
        allowOddLengths: true,
        keepPartial: !opts.json,
      });
      for (const w of parsed.warnings) ctx.stderr.write(`dicomnet: warning: ${file}: ${w}\n`);
      if (opts.validate) {
        // a report, not a refusal: what could be read is checked, then a parse error (exit 2)
        const findings = [...validateDataset(parsed.meta), ...validateDataset(parsed.dataset)];
        for (const f of findings) ctx.stdout.write(`${f.path} ${f.vr}: ${f.message}\n`);
        ctx.stdout.write(
          findings.length === 0
            ? 'no encoding problems found\n'
            : `${findings.length} encoding problem(s) found\n`,
        );
        if (parsed.error) throw parsed.error;
        return;
      }
      if (opts.json) {
        const json = datasetToJson(parsed.dataset, {
          bulkDataUri: (ref, el) => (el.tag === Tags.PixelData ? fileBulkDataUri(ref) : undefined),
          readBulk: readBulkData,
        });
        ctx.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      ctx.stdout.write(dumpFileText(parsed));
      if (parsed.error) throw parsed.error;
    });
}
