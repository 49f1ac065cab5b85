import type { DicomServerOptions } from '../services/server.js';
import type { NodeLimits } from './config.js';

/** The node's limits (config file units: seconds, 0 = off) as {@link DicomServerOptions}. */
export function serverLimits(limits: NodeLimits): Partial<DicomServerOptions> {
  return {
    maxAssociations: limits.maxAssociations,
    maxAssociationsPerAddress: limits.maxAssociationsPerAddress,
    maxAssociationsPerMinutePerAddress: limits.maxAssociationsPerMinutePerAddress || undefined,
    maxTlsHandshakes: limits.maxTlsHandshakes || undefined,
    // 0 stays 0 (no limit): undefined would mean the library default
    maxPendingConnections: limits.maxPendingConnections,
    maxPendingRequestBytes: limits.maxPendingRequestBytes,
    maxPduLength: limits.maxPduLength,
    hardMaxPduLength: limits.maxAssociateRqLength,
    maxBufferedDatasetBytes: limits.maxBufferedDatasetBytes,
    maxDatasetDepth: limits.maxDatasetDepth,
    timeoutMs: limits.timeoutSeconds * 1000,
    idleTimeoutMs: limits.idleTimeoutSeconds * 1000,
    idleEvictMs: limits.idleEvictSeconds * 1000,
  };
}
