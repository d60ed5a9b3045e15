import { AppError } from '../errors.js'
import type { FhirIssue } from './validator.js'

/** A 422 problem naming the FHIRPath of the (first) failing element, with every issue found. */
export function invalidResource(issues: FhirIssue[]): AppError {
  const [first] = issues
  return new AppError('invalid-fhir-resource', `${first.fhirPath}: ${first.detail}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, {
    fhirPath: first.fhirPath,
    issues,
  })
}

/** Checks the resource type first: nothing else about a resource of the wrong type is worth reading. */
export function requireResourceType(resource: unknown, type: string): Record<string, any> {
  const got = resource && typeof resource === 'object' ? (resource as { resourceType?: unknown }).resourceType : undefined
  if (got !== type) {
    throw invalidResource([{ fhirPath: 'resourceType', detail: `must be ${type}, not ${got === undefined ? 'missing' : JSON.stringify(got)}` }])
  }
  return resource as Record<string, any>
}
