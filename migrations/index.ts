import { CreateCoreTables1764000000000 } from './1764000000000-CreateCoreTables.js'

/** medcred's own migrations, in order; they run after Veramo's (see src/db/data-source.ts). */
export const medcredMigrations = [CreateCoreTables1764000000000]
