import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Acting } from '../src/audit/acting.js'
import { AuditEventEntity } from '../src/audit/audit-event.entity.js'
import { HolderWallet } from '../src/holder/wallet.js'
import type { InstitutionRow } from '../src/institutions/institution.entity.js'
import { licenseCredential } from './helpers/fixtures.js'
import { startTestService, type TestService } from './helpers/service.js'

/**
 * Every state-changing capability, called directly (no HTTP, as a worker or an admin script would), appends
 * its own audit event with the actor and request id it was given: there is no way to change state without one.
 */
describe('capabilities append their own audit events', () => {
  let svc: TestService
  let n = 0
  const by = (): Acting => ({ actor: { type: 'admin' }, requestId: `direct-${++n}` })
  const eventOf = async (requestId: string) => svc.db.getRepository(AuditEventEntity).findBy({ requestId })
  const expectEvent = async (acting: Acting, action: string, subject: { type: string; id?: string }, detail?: Record<string, unknown>) => {
    const events = await eventOf(acting.requestId!)
    expect(events.map((e) => e.action)).toEqual([action])
    const [e] = events
    expect(e).toMatchObject({ actorType: acting.actor.type, outcome: 'success', subjectType: subject.type, ...(subject.id ? { subjectId: subject.id } : {}) })
    if (detail) expect(JSON.parse(e.detail ?? '{}')).toMatchObject(detail)
  }

  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc?.dispose())

  it('institutions: create, policy, key rotation', async () => {
    const s = svc.services
    const created = by()
    const { institution } = await s.institutions.create({ name: 'Direct Board', kind: 'board', jurisdiction: 'US-TX' }, created)
    await expectEvent(created, 'institution.created', { type: 'institution', id: institution.id }, { did: institution.did, kind: 'board' })
    const policy = by()
    await s.institutions.setPolicy(institution.id, { receiptWindowDays: 90 }, policy)
    await expectEvent(policy, 'institution.policy-changed', { type: 'institution', id: institution.id }, { receiptWindowDays: 90 })
    const rotated = by()
    await s.keyRotation.rotate({ id: institution.id }, 'superseded', rotated)
    await expectEvent(rotated, 'institution.key-rotated', { type: 'institution', id: institution.id }, { did: institution.did, reason: 'superseded' })
  })

  it('trust registry: issuers and verifiers added and removed', async () => {
    const did = 'did:ethr:0x7a69:0x0000000000000000000000000000000000000abc'
    const steps: [Acting, string, () => Promise<unknown>][] = []
    const add = by(), remove = by(), addV = by(), removeV = by()
    steps.push([add, 'trust.issuer.added', () => svc.services.trust.addIssuer({ did, credentialTypes: ['ClinicianLicenseCredential'] } as never, add)])
    steps.push([remove, 'trust.issuer.removed', () => svc.services.trust.removeIssuer(did, remove)])
    steps.push([addV, 'trust.verifier.added', () => svc.services.trust.addVerifier(did, addV)])
    steps.push([removeV, 'trust.verifier.removed', () => svc.services.trust.removeVerifier(did, removeV)])
    for (const [acting, action, step] of steps) {
      await step()
      await expectEvent(acting, action, { type: 'did', id: did })
    }
  })

  it('issuance and status changes', async () => {
    const board = await svc.api.createTrustedBoard('Direct Issuer')
    const row = (await svc.services.institutions.get(board.id)) as InstitutionRow
    const holder = await HolderWallet.create()
    const actor: Acting['actor'] = { type: 'institution', id: row.id, did: row.did }
    const issued = { actor, requestId: `direct-${++n}` }
    const vc = (await svc.services.issuance.issue(row, licenseCredential(holder.did) as never, issued)) as { id: string }
    await expectEvent(issued, 'credential.issued', { type: 'credential', id: vc.id }, { credentialType: 'ClinicianLicenseCredential' })
    const suspended = { actor, requestId: `direct-${++n}` }
    await svc.services.status.change(row, vc.id, [{ type: 'StatusList2021Entry', status: 'suspended' }], 'administrative', suspended)
    await expectEvent(suspended, 'credential.status-changed', { type: 'credential', id: vc.id }, { status: 'suspended', reason: 'administrative' })
    // Asking for the state it already has changes nothing, and records nothing.
    const again = { actor, requestId: `direct-${++n}` }
    await svc.services.status.change(row, vc.id, [{ type: 'StatusList2021Entry', status: 'suspended' }], 'administrative', again)
    expect(await eventOf(again.requestId)).toEqual([])
  })

  it('webhooks: registered and deleted', async () => {
    const hospital = await svc.api.createInstitution({ name: 'Direct Hospital', kind: 'hospital' })
    const registered = by()
    const hook = await svc.services.webhooks.register(hospital.id, { url: 'http://127.0.0.1:9/hook', events: ['credential.revoked'] }, registered)
    await expectEvent(registered, 'webhook.registered', { type: 'webhook', id: hook.id }, { events: ['credential.revoked'] })
    const deleted = by()
    await svc.services.webhooks.remove(hospital.id, hook.id, deleted)
    await expectEvent(deleted, 'webhook.deleted', { type: 'webhook', id: hook.id })
  })

  it('a change that fails leaves no event', async () => {
    const failed = by()
    await expect(svc.services.institutions.setPolicy('no-such-institution', { receiptWindowDays: 30 }, failed)).rejects.toMatchObject({ code: 'not-found' })
    expect(await eventOf(failed.requestId!)).toEqual([])
    const issuedNothing = by()
    const board = await svc.api.createTrustedBoard('Direct Refusal')
    const row = await svc.services.institutions.get(board.id)
    await expect(svc.services.issuance.issue(row, licenseCredential('did:key:z6Mk', { credentialSubject: { npi: '1' } }) as never, issuedNothing)).rejects.toMatchObject({ code: 'invalid-credential' })
    expect(await eventOf(issuedNothing.requestId!)).toEqual([])
  })
})
