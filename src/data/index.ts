// Public API of the data layer: tags, VRs, dictionary, transfer syntaxes, the Dataset model,
// streaming reader/writer, Part 10 files, DICOM JSON, character sets.
export { type BulkPolicy, type BulkSink, DatasetBuilder } from './builder.js';
export { readBulkData } from './bulk.js';
export { decodeText, encodeText } from './charset.js';
export {
  type BulkDataRef,
  type DataElement,
  Dataset,
  type ElementValue,
  type EncapsulatedPixelData,
  isBulkRef,
  isEncapsulated,
  resolveTag,
  type SettableValue,
} from './dataset.js';
export { type DecodeOptions, decodeDataset, parseStream, readDataset } from './decode.js';
export {
  type DictionaryEntry,
  dictionaryEntries,
  implicitVR,
  keywordOf,
  lookupKeyword,
  lookupTag,
  tagForKeyword,
} from './dictionary.js';
export { dumpDatasetText, dumpFileText } from './dump-text.js';
export { DicomParseError, type DicomParseErrorCode } from './errors.js';
export { type ParseEvent, parseEvents } from './events.js';
export {
  type BulkDataResolver,
  datasetFromJson,
  datasetToJson,
  fileBulkDataResolver,
  fileBulkDataUri,
  type FromJsonOptions,
  type JsonAttribute,
  type JsonDataset,
  type JsonDataset as DicomJson,
  type JsonPersonName,
  type ToJsonOptions,
} from './json.js';
export { applyKeyArgument, datasetFromKeywords, type KeyArgument, parseKeyArgument } from './keywords.js';
export {
  DatasetParser,
  type ElementHeader,
  type ParseHandler,
  type ParserOptions,
  UNDEFINED_LENGTH,
} from './parser.js';
export {
  encodeFileMetaInformation,
  type FileMetaOptions,
  fileMetaDataset,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  type Part10File,
  type Part10Header,
  type ReadPart10Options,
  readPart10,
  readPart10Header,
  writePart10,
} from './part10.js';
export {
  formatTag,
  isPrivateCreator,
  isPrivateTag,
  makeTag,
  parseTag,
  type Tag,
  Tags,
  tagElement,
  tagGroup,
  tagHex,
} from './tag.js';
export { transcode } from './transcode.js';
export {
  allTransferSyntaxes,
  TransferSyntax,
  type TransferSyntaxInfo,
  transferSyntaxInfo,
  transferSyntaxLayout,
} from './transfer-syntax.js';
export { isVR, type VR, VRS } from './vr.js';
export { type ValidationFinding, validateDataset } from './validate.js';
export { datasetChunks, encodeDataset, encodeDatasetStream, encodedLength, type Layout } from './writer.js';
