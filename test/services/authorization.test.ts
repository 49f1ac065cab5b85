import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACCESS_SERVICES,
  type AccessPolicy,
  DEFAULT_AUTHENTICATED_PEER_SERVICES,
  DEFAULT_UNKNOWN_PEER_SERVICES,
  decideAccess,
  peerKind,
  serviceOfAbstractSyntax,
} from '../../src/services/authorization.js';
import { SopClass } from '../../src/services/sop-classes.js';

const policy: AccessPolicy = {
  unknownPeers: DEFAULT_UNKNOWN_PEER_SERVICES,
  authenticatedPeers: DEFAULT_AUTHENTICATED_PEER_SERVICES,
  peers: {
    MODALITY1: { moveDestinations: ['MODALITY1', 'VIEWER'] },
    VIEWER: {},
    NARROW: { allow: ['echo', 'find'] },
    NOTHING: { allow: [] },
    ROUTER: { allow: ['move', 'mpps'], moveDestinations: ['*'] },
    BOUND: {},
  },
};

const unknown = { callingAet: 'STRANGER', verifiedCertificate: false };
const authenticated = { callingAet: 'STRANGER', verifiedCertificate: true };

describe('access decision', () => {
  test('peer kinds: listed = configured (whatever the certificate), else by the verified certificate', () => {
    assert.equal(peerKind(policy, unknown), 'unknown');
    assert.equal(peerKind(policy, authenticated), 'authenticated');
    assert.equal(peerKind(policy, { callingAet: 'VIEWER', verifiedCertificate: false }), 'configured');
    assert.equal(peerKind(policy, { callingAet: 'VIEWER', verifiedCertificate: true }), 'configured');
    // an AE title that names an Object.prototype member is not a configured peer
    assert.equal(peerKind(policy, { callingAet: 'constructor', verifiedCertificate: false }), 'unknown');
  });

  const expected: Record<
    string,
    { peer: { callingAet: string; verifiedCertificate: boolean }; allowed: readonly string[]; rule: string }
  > = {
    unknown: { peer: unknown, allowed: ['echo', 'store'], rule: 'access.unknownPeers' },
    authenticated: {
      peer: authenticated,
      allowed: ['echo', 'store', 'find', 'get', 'worklist', 'mpps', 'commitment'],
      rule: 'access.authenticatedPeers',
    },
    'configured, allow absent': {
      peer: { callingAet: 'VIEWER', verifiedCertificate: false },
      allowed: ACCESS_SERVICES,
      rule: 'peers.VIEWER.allow',
    },
    'configured, allow [echo, find]': {
      peer: { callingAet: 'NARROW', verifiedCertificate: true },
      allowed: ['echo', 'find'],
      rule: 'peers.NARROW.allow',
    },
    'configured, allow []': {
      peer: { callingAet: 'NOTHING', verifiedCertificate: true },
      allowed: [],
      rule: 'peers.NOTHING.allow',
    },
  };
  for (const [kind, { peer, allowed, rule }] of Object.entries(expected)) {
    test(`every service for a peer that is ${kind}`, () => {
      for (const service of ACCESS_SERVICES) {
        const d = decideAccess(policy, { ...peer, service });
        assert.equal(d.allowed, allowed.includes(service), `${service}`);
        assert.equal(d.rule, rule, `${service}`);
        if (!d.allowed) {
          assert.match(
            d.reason,
            new RegExp(`^${service} is not allowed for (configured peer )?${peer.callingAet}`),
          );
          assert.ok(d.reason.includes(rule), d.reason);
        }
      }
    });
  }

  test('the defaults are those of DESIGN.md', () => {
    assert.deepEqual([...DEFAULT_UNKNOWN_PEER_SERVICES], ['echo', 'store']);
    assert.deepEqual(
      [...DEFAULT_AUTHENTICATED_PEER_SERVICES],
      ['echo', 'store', 'find', 'get', 'worklist', 'mpps', 'commitment'],
    );
  });

  test('C-MOVE destinations: listed ones, itself by default, "*" = any configured peer, never an unconfigured one', () => {
    const move = (callingAet: string, moveDestination: string, verifiedCertificate = false) =>
      decideAccess(policy, { callingAet, verifiedCertificate, service: 'move', moveDestination });
    assert.equal(move('MODALITY1', 'VIEWER').allowed, true);
    assert.equal(move('MODALITY1', 'MODALITY1').allowed, true);
    const other = move('MODALITY1', 'BOUND');
    assert.equal(other.allowed, false);
    assert.equal(other.rule, 'peers.MODALITY1.moveDestinations');
    assert.ok(!other.allowed && other.reason.startsWith('BOUND is not an allowed destination for MODALITY1'));
    // default: itself only
    assert.equal(move('VIEWER', 'VIEWER').allowed, true);
    assert.equal(move('VIEWER', 'MODALITY1').allowed, false);
    // "*": every configured peer, identity-bound ones included; an unconfigured AE never
    assert.equal(move('ROUTER', 'BOUND').allowed, true);
    assert.equal(move('ROUTER', 'VIEWER').allowed, true);
    const nobody = move('ROUTER', 'NOBODY');
    assert.equal(nobody.allowed, false);
    assert.ok(!nobody.allowed && /NOBODY is not a configured peer/.test(nobody.reason));
    assert.equal(move('ROUTER', 'constructor').allowed, false);
    // not allowed to move at all: the allow rule decides first
    const narrow = move('NARROW', 'NARROW');
    assert.equal(narrow.allowed, false);
    assert.equal(narrow.rule, 'peers.NARROW.allow');
  });

  test('C-MOVE by peers that are not configured: no destinations, even when move is allowed to them', () => {
    const open: AccessPolicy = { ...policy, unknownPeers: ['move'], authenticatedPeers: ['move'] };
    for (const verifiedCertificate of [false, true]) {
      const d = decideAccess(open, {
        callingAet: 'STRANGER',
        verifiedCertificate,
        service: 'move',
        moveDestination: 'VIEWER',
      });
      assert.equal(d.allowed, false);
      assert.equal(d.rule, verifiedCertificate ? 'access.authenticatedPeers' : 'access.unknownPeers');
      assert.ok(!d.allowed && /only configured peers have move destinations/.test(d.reason));
      // itself as destination: not configured, so nowhere to send
      assert.equal(
        decideAccess(open, {
          callingAet: 'STRANGER',
          verifiedCertificate,
          service: 'move',
          moveDestination: 'STRANGER',
        }).allowed,
        false,
      );
    }
    // without a destination (negotiation) the service itself is allowed
    assert.equal(decideAccess(open, { ...unknown, service: 'move' }).allowed, true);
  });

  test('MPPS N-SET: the step creator may, a configured peer may, other AEs may not', () => {
    const set = (peer: { callingAet: string; verifiedCertificate: boolean }, stepCreator: string) =>
      decideAccess(policy, { ...peer, service: 'mpps', stepCreator });
    assert.equal(set(authenticated, 'STRANGER').allowed, true, 'its own step');
    const other = set(authenticated, 'MODALITY1');
    assert.equal(other.allowed, false);
    assert.equal(other.rule, 'mpps.stepCreator');
    assert.ok(!other.allowed && /created by MODALITY1/.test(other.reason));
    assert.equal(set({ callingAet: 'ROUTER', verifiedCertificate: false }, 'MODALITY1').allowed, true);
    // a configured peer without mpps: refused by its allow list first
    assert.equal(
      set({ callingAet: 'NARROW', verifiedCertificate: false }, 'NARROW').rule,
      'peers.NARROW.allow',
    );
    // unknown peers may not use MPPS at all by default
    assert.equal(set(unknown, 'STRANGER').rule, 'access.unknownPeers');
  });

  test('abstract syntaxes map to services', () => {
    assert.equal(serviceOfAbstractSyntax(SopClass.Verification), 'echo');
    assert.equal(serviceOfAbstractSyntax('1.2.840.10008.5.1.4.1.1.2'), 'store');
    for (const uid of [SopClass.PatientRootFind, SopClass.StudyRootFind, SopClass.PatientStudyOnlyFind])
      assert.equal(serviceOfAbstractSyntax(uid), 'find');
    for (const uid of [SopClass.PatientRootMove, SopClass.StudyRootMove, SopClass.PatientStudyOnlyMove])
      assert.equal(serviceOfAbstractSyntax(uid), 'move');
    for (const uid of [SopClass.PatientRootGet, SopClass.StudyRootGet, SopClass.PatientStudyOnlyGet])
      assert.equal(serviceOfAbstractSyntax(uid), 'get');
    assert.equal(serviceOfAbstractSyntax(SopClass.ModalityWorklistFind), 'worklist');
    assert.equal(serviceOfAbstractSyntax(SopClass.ModalityPerformedProcedureStep), 'mpps');
    assert.equal(serviceOfAbstractSyntax(SopClass.StorageCommitmentPushModel), 'commitment');
    assert.equal(serviceOfAbstractSyntax('1.2.3.4'), undefined);
  });
});
