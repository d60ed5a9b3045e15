import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { DataSource } from 'typeorm'
import { PG_POOL_SIZE } from './database.js'
import { Entities as veramoEntities, migrations as veramoMigrations } from '@veramo/data-store'
import { medcredMigrations } from '../../migrations/index.js'
import { ChallengeEntity, CredentialingFileEntity, ReceiptEntity, RelianceEntity, VerificationEntity } from '../acceptance/acceptance.entities.js'
import { auditEntities } from '../audit/entities.js'
import { IdempotencyEntity } from '../idempotency/idempotency.entity.js'
import { InstitutionEntity } from '../institutions/institution.entity.js'
import { IssuedCredentialEntity } from '../issuance/issued-credential.entity.js'
import { KeyRotationEntity } from '../institutions/key-rotation.entity.js'
import { notificationEntities } from '../notifications/entities.js'
import { StatusChangeEntity, StatusEntryEntity, StatusListEntity } from '../status/status.entities.js'
import { TrustedIssuerEntity, TrustedVerifierEntity } from '../trust/trust.entities.js'
import { TokenStatusEntryEntity, TokenStatusListEntity } from '../status/token-status.entities.js'
import { ConsentEntity, PatientTokenUseEntity } from '../consent/consent.entities.js'

import { oid4vcEntities } from '../oid4vc/entities.js'
import { webEntities } from '../web/session.entities.js'

export const medcredEntities = [InstitutionEntity, IssuedCredentialEntity, StatusListEntity, StatusEntryEntity, StatusChangeEntity, KeyRotationEntity, ...auditEntities, ...notificationEntities,
  TrustedIssuerEntity, TrustedVerifierEntity, ChallengeEntity, VerificationEntity, ReceiptEntity, RelianceEntity, CredentialingFileEntity, IdempotencyEntity, ...oid4vcEntities,
  TokenStatusListEntity, TokenStatusEntryEntity, ConsentEntity, PatientTokenUseEntity, ...webEntities]

export interface DatabaseOptions {
  /** PostgreSQL URL; unset = SQLite file `<dataDir>/medcred.sqlite`. */
  databaseUrl?: string
  dataDir: string
}

/**
 * A PostgreSQL connection that always has an `error` listener. node-postgres reports a lost connection (a
 * terminated session, the server shutting down) as an `error` event, and an `error` event that no one
 * listens to throws, which ends the process. The pool listens while a connection is idle and TypeORM while a
 * query runner holds it, but neither in between: a session terminated just as the pool hands it out (its
 * last reply and the termination in one read from the socket) took the whole service down. The loss is
 * still seen by the pool, by TypeORM and by any query that meets it; this listener only keeps it from
 * going unheard.
 */
class ListenedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config)
    this.on('error', () => undefined)
  }
}

/** One DataSource for Veramo's tables and ours. Schema changes only through migrations. */
export function createDataSource(opts: DatabaseOptions): DataSource {
  const common = {
    entities: [...veramoEntities, ...medcredEntities],
    migrations: [...veramoMigrations, ...medcredMigrations],
    migrationsRun: false,
    synchronize: false,
    logging: false as const,
  }
  if (opts.databaseUrl) {
    return new DataSource({ type: 'postgres', url: opts.databaseUrl, extra: { max: PG_POOL_SIZE, Client: ListenedClient }, ...common })
  }
  fs.mkdirSync(opts.dataDir, { recursive: true })
  return new DataSource({
    type: 'better-sqlite3',
    database: path.join(opts.dataDir, 'medcred.sqlite'),
    // WAL lets readers run beside the writer; busy_timeout waits for a lock rather than failing at once.
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('journal_mode = WAL')
      db.pragma('busy_timeout = 5000')
      db.pragma('foreign_keys = ON')
    },
    ...common,
  })
}

/** Opens the database and brings its schema up to date. */
export async function openDatabase(opts: DatabaseOptions): Promise<DataSource> {
  const ds = createDataSource(opts)
  await ds.initialize()
  try {
    await ds.runMigrations({ transaction: 'each' })
  } catch (e) {
    await ds.destroy()
    throw e
  }
  return ds
}

/** Where the database is, for logs (never prints a password). */
export function describeDatabase(opts: DatabaseOptions): string {
  if (!opts.databaseUrl) return `sqlite:${path.join(opts.dataDir, 'medcred.sqlite')}`
  const url = new URL(opts.databaseUrl)
  return `postgres://${url.host}${url.pathname}`
}
