import { asArray } from '../credentials/w3c.js'
import { fail, pass, type Check } from '../verification/checks.js'
import { ENTRY_TYPE_OF, STATUS_ENTRY_TYPES } from './list-credential.js'
import type { StatusListSource } from './list-source.js'

/** What a credential's status check needs: where lists come from, and which types must carry a status. */
export interface StatusCheckContext {
  lists: StatusListSource
  /** Credential types that must carry a credentialStatus (a missing one is not "not revoked"). */
  typesRequiringStatus: ReadonlySet<string>
}

interface Entry {
  type?: unknown
  statusPurpose?: unknown
  statusListIndex?: unknown
  statusListCredential?: unknown
  statusSize?: unknown
}

/**
 * The `status` check: every credentialStatus entry's bit must be clear in a list signed by the
 * credential's own issuer. Anything that cannot be checked (unknown type, unreachable or forged list)
 * fails closed: the credential is not verified, with the reason.
 */
export async function checkStatus(
  credential: Record<string, unknown>,
  issuer: string,
  ctx: StatusCheckContext,
): Promise<Check> {
  const entries = asArray(credential.credentialStatus as Entry | Entry[] | undefined)
  if (entries.length === 0) {
    const required = asArray(credential.type as string | string[]).find((t) => ctx.typesRequiringStatus.has(t))
    return required ? fail('status', `a ${required} must carry a credentialStatus; without one its status is unknown`) : pass('status', 'no status to check')
  }
  const states: string[] = []
  for (const entry of entries) {
    if (!(STATUS_ENTRY_TYPES as readonly unknown[]).includes(entry.type)) {
      return fail('status', `status unknown: unsupported credentialStatus type ${JSON.stringify(entry.type)}`)
    }
    const index = Number(entry.statusListIndex)
    if (typeof entry.statusListCredential !== 'string' || !Number.isInteger(index) || index < 0 || typeof entry.statusPurpose !== 'string') {
      return fail('status', 'status unknown: the credentialStatus entry is malformed')
    }
    const lookup = await ctx.lists.load(entry.statusListCredential)
    if (!lookup.ok) return fail('status', `status unknown, so not verified: ${lookup.reason}`)
    const { list } = lookup
    if (list.issuer !== issuer) return fail('status', `status unknown: the status list is signed by ${list.issuer}, not by the credential's issuer`)
    if (entry.type === ENTRY_TYPE_OF.BitstringStatusList) {
      // Bitstring Status List v1.0 §3.2: the list must be one, and entries of more than one bit are not ours to read.
      if (list.format !== 'BitstringStatusList') return fail('status', 'status unknown: a BitstringStatusListEntry points to a list that is not a BitstringStatusListCredential')
      if (entry.statusSize !== undefined && Number(entry.statusSize) !== 1) return fail('status', `status unknown: statusSize ${String(entry.statusSize).slice(0, 20)} is not supported (only 1)`)
    }
    if (!list.purposes.includes(entry.statusPurpose)) {
      return fail('status', `status unknown: STATUS_VERIFICATION_ERROR: the list is for ${list.purposes.join(', ')}, the entry for ${entry.statusPurpose}`)
    }
    if (index >= list.bits.length) return fail('status', `status unknown: index ${index} is outside the list`)
    if (list.bits.get(index)) return fail('status', entry.statusPurpose === 'revocation' ? 'revoked' : entry.statusPurpose === 'suspension' ? 'suspended' : `${entry.statusPurpose} bit set`)
    states.push(`not ${entry.statusPurpose === 'revocation' ? 'revoked' : entry.statusPurpose === 'suspension' ? 'suspended' : entry.statusPurpose}`)
  }
  return pass('status', states.join(', '))
}
