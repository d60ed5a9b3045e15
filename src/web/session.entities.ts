import { EntitySchema } from 'typeorm'

/** Who a page session (or a sign-in link) signs in as: the consortium admin, or one institution. */
export type WebRole = 'admin' | 'institution'

/** A signed-in browser. The cookie holds the token; only its SHA-256 is stored, so a database read signs no one in. */
export interface WebSessionRow {
  id: string
  tokenHash: string
  role: WebRole
  institutionId: string | null
  createdAt: string
  expiresAt: string
}

/** A one-time sign-in link (the demo's): single use, short-lived, stored by the hash of its token. */
export interface WebSignInLinkRow {
  tokenHash: string
  role: WebRole
  institutionId: string | null
  createdAt: string
  expiresAt: string
  usedAt: string | null
}

const time = (nullable = false) => ({ type: 'varchar' as const, length: 30, nullable })

export const WebSessionEntity = new EntitySchema<WebSessionRow>({
  name: 'WebSession',
  tableName: 'medcred_web_session',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    tokenHash: { type: 'varchar', length: 64 },
    role: { type: 'varchar', length: 16 },
    institutionId: { type: 'varchar', length: 36, nullable: true },
    createdAt: time(),
    expiresAt: time(),
  },
})

export const WebSignInLinkEntity = new EntitySchema<WebSignInLinkRow>({
  name: 'WebSignInLink',
  tableName: 'medcred_web_sign_in_link',
  columns: {
    tokenHash: { type: 'varchar', length: 64, primary: true },
    role: { type: 'varchar', length: 16 },
    institutionId: { type: 'varchar', length: 36, nullable: true },
    createdAt: time(),
    expiresAt: time(),
    usedAt: time(true),
  },
})

export const webEntities = [WebSessionEntity, WebSignInLinkEntity]
