/** `npm run migrate`: brings the configured database's schema up to date (the service also does this at start). */
import { ConfigError, loadConfig } from '../src/config.js'
import { createDataSource, describeDatabase } from '../src/db/data-source.js'

try {
  const config = loadConfig(process.env)
  const ds = createDataSource(config)
  await ds.initialize()
  const applied = await ds.runMigrations({ transaction: 'each' })
  await ds.destroy()
  console.log(`${describeDatabase(config)}: ${applied.length ? `applied ${applied.map((m) => m.name).join(', ')}` : 'already up to date'}`)
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : e)
  process.exit(1)
}
