export * from './errors.js';
export * from './chain.js';
export * from './file-sink.js';
export * from './message.js';
export * from './syslog-format.js';
export * from './syslog-sink.js';
export * from './syslog-tls.js';
export { auditMessageXml } from './xml.js';
