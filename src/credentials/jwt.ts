import { decodeJWT } from 'did-jwt'
import { bodyProblem } from '../validation.js'

/**
 * Decodes a compact JWT's header and payload (the signature is not checked here), applying the boundary's
 * text rule to what it carries: a JWT is outside text as much as a request body is, and its claims end up
 * stored, hashed and audited. Throws when it is not a JWT or its text is not well-formed.
 */
export function decodeJwt(jwt: string): ReturnType<typeof decodeJWT> {
  const decoded = decodeJWT(jwt, false)
  const problem = bodyProblem(decoded.header, 'the JWT header') ?? bodyProblem(decoded.payload, 'the JWT payload')
  if (problem) throw new MalformedJwtText(problem)
  return decoded
}

/** A JWT that decodes, but whose text medcred refuses (see `textProblem`). */
export class MalformedJwtText extends Error {
  override name = 'MalformedJwtText'
}
