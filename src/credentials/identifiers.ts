/** Checks of identifiers that recur in credential subjects. Pure functions, each with its reference. */

/**
 * NPI check digit (CMS, "Requirements for NPI check digit"): Luhn over the first nine digits with the
 * card-issuer prefix 80840, whose doubled digits contribute a constant 24.
 */
export function isValidNpi(npi: string): boolean {
  if (!/^\d{10}$/.test(npi)) return false
  let sum = 24
  for (let i = 0; i < 9; i++) {
    let d = Number(npi[i])
    if (i % 2 === 0) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return (10 - (sum % 10)) % 10 === Number(npi[9])
}

/**
 * DEA registration number: two letters then seven digits whose last is
 * (d1 + d3 + d5 + 2 × (d2 + d4 + d6)) mod 10.
 */
export function isValidDeaNumber(dea: string): boolean {
  const m = /^[A-Z][A-Z9](\d{7})$/.exec(dea)
  if (!m) return false
  const d = m[1].split('').map(Number)
  return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 === d[6]
}

/** ISO 3166-2 subdivision code such as `US-TX` (or a country code alone, `US`). */
export const JURISDICTION = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/

export const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/
