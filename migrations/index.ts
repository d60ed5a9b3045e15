import { CreateCoreTables1764000000000 } from './1764000000000-CreateCoreTables.js'
import { CreateStatusAndKeyTables1764050000000 } from './1764050000000-CreateStatusAndKeyTables.js'
import { CreateAuditTables1764100000000 } from './1764100000000-CreateAuditTables.js'
import { CreateNotificationTables1764200000000 } from './1764200000000-CreateNotificationTables.js'
import { CreateTrustAndAcceptanceTables1764300000000 } from './1764300000000-CreateTrustAndAcceptanceTables.js'
import { CreateIdempotencyTable1764400000000 } from './1764400000000-CreateIdempotencyTable.js'
import { CredentialIdsPerIssuer1765000000000 } from './1765000000000-CredentialIdsPerIssuer.js'
import { CreateRateLimitTable1765050000000 } from './1765050000000-CreateRateLimitTable.js'
import { CreateOid4vcTables1765100000000 } from './1765100000000-CreateOid4vcTables.js'
import { CreatePatientConsentTables1765200000000 } from './1765200000000-CreatePatientConsentTables.js'
import { CreateWebSessionTables1765300000000 } from './1765300000000-CreateWebSessionTables.js'
import { BitstringStatusLists1765400000000 } from './1765400000000-BitstringStatusLists.js'

/** medcred's own migrations, in order; they run after Veramo's (see src/db/data-source.ts). */
export const medcredMigrations = [CreateCoreTables1764000000000, CreateStatusAndKeyTables1764050000000, CreateAuditTables1764100000000, CreateNotificationTables1764200000000, CreateTrustAndAcceptanceTables1764300000000, CreateIdempotencyTable1764400000000, CredentialIdsPerIssuer1765000000000, CreateRateLimitTable1765050000000, CreateOid4vcTables1765100000000, CreatePatientConsentTables1765200000000, CreateWebSessionTables1765300000000, BitstringStatusLists1765400000000]
