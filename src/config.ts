import os from 'node:os'
import path from 'node:path'
import { parseUnits } from 'ethers'
import { z } from 'zod'

/**
 * Every setting medcred has, read once from the environment at start and validated.
 * Modules never read `process.env`; they receive the parts of this object they need.
 */
export interface Config {
  port: number
  /** SQLite file, local chain state and generated secrets live here. */
  dataDir: string
  /** PostgreSQL connection URL; unset = SQLite file in dataDir. */
  databaseUrl?: string
  /** Base URL written into DID service endpoints, status list URLs and receipt URLs. */
  publicUrl: string
  /** Unset = generated once into dataDir (see secrets.ts). */
  kmsSecretKey?: string
  /** Unset = generated once into dataDir and its location printed at start. */
  adminToken?: string
  chain: ChainConfig
  limits: LimitsConfig
  /** Clock skew tolerated when checking JWT and credential dates, in seconds. */
  clockSkewSeconds: number
  /** Audit trail anchoring (src/audit): a batch is anchored every `anchorEvery` events or `anchorSeconds`, whichever first. */
  audit: { anchorEvery: number; anchorSeconds: number }
  statusLists: StatusListConfig
  /** did:web resolution: the status lists' fetch rule, with its own allow-list. */
  didWeb: DidWebConfig
  webhooks: WebhooksConfig
  /** How long a verification challenge stays usable. */
  challengeTtlSeconds: number
  /** How often the DID cache reads new registry events from the chain (keep it at or below the block time). */
  didCachePollMs: number
  /** How old the KB-JWT of an SD-JWT presentation may be (its `iat`), in seconds. */
  kbJwtMaxAgeSeconds: number
  /** How far ahead a patient's signed bearer token or revocation may expire / how old it may be, in seconds (at most 300). */
  patientTokenMaxSeconds: number
  /**
   * HTTP worker processes (`node:cluster`), each a full replica on the shared database. Default: the
   * machine's cores on PostgreSQL, 1 on SQLite (one file, one writer: see README "Scale").
   */
  webConcurrency: number
  oid4vc: Oid4vcConfig
  http: HttpConfig
  web: WebConfig
  pruning: PruningConfig
}

/** The background job that deletes expired single-use rows (src/db/pruner.ts). */
export interface PruningConfig {
  /** Time between runs, in seconds. */
  intervalSeconds: number
  /** How long past its expiry a row is kept before it is deleted, in seconds. */
  graceSeconds: number
}

/** The HTTP edge beyond limits: who may read metrics, which browser origins may call, how long a stop waits. */
export interface HttpConfig {
  /** A token that reads `GET /metrics` only (the admin token reads it too); unset = admin token only. */
  metricsToken?: string
  /** Browser origins allowed by CORS (exact `scheme://host[:port]`); empty = CORS closed. */
  corsOrigins: string[]
  /** On SIGTERM, how long requests in flight may take to finish before their connections are closed. */
  shutdownGraceMs: number
}

/** The office and board pages (src/web). */
export interface WebConfig {
  /** How long a page session lasts after sign-in, in seconds. */
  sessionTtlSeconds: number
  /** How long a one-time sign-in link can be redeemed, in seconds. */
  signInLinkTtlSeconds: number
}

/** Wallet protocols (src/oid4vc): how long each single-use thing stays usable, in seconds. */
export interface Oid4vcConfig {
  /** A credential offer (its pre-authorized code), from creation to the token request. */
  offerTtlSeconds: number
  /** A c_nonce from the nonce endpoint. */
  nonceTtlSeconds: number
  /** The access token the token endpoint hands out for one credential request. */
  accessTokenTtlSeconds: number
  /** An OID4VP authorization request, from creation to the wallet's response. */
  requestTtlSeconds: number
}

/** Relying-party webhooks (src/notifications). */
export interface WebhooksConfig {
  /** Development and tests only: let webhooks target loopback addresses, over http too. Off by default. */
  allowLoopback: boolean
  /** How often the delivery worker looks for due deliveries. */
  pollMs: number
  /** Time bound on one delivery attempt (connect, send, response headers). */
  timeoutMs: number
  /** Attempts before a delivery is marked failed. */
  maxAttempts: number
  /** First retry delay; doubles per failed attempt (with jitter) up to retryMaxMs. */
  retryBaseMs: number
  retryMaxMs: number
}

export interface StatusListConfig {
  /** Hosts whose status lists may be fetched over https (a statusListCredential URL is attacker-chosen). */
  allowedHosts: string[]
  /** Development and tests only: fetch status lists from loopback addresses too, over http as well. */
  allowLoopback: boolean
  /** The `ttl` written into Bitstring Status List credentials, in milliseconds: how long others may cache one. */
  bitstringTtlMs: number
}

export interface DidWebConfig {
  /** Hosts whose did:web documents may be fetched over https. */
  allowedHosts: string[]
  /** Development and tests only: fetch did:web documents from loopback hosts too (still over https). */
  allowLoopback: boolean
  /** A PEM file of extra CA certificates trusted for did:web fetches only (e.g. a private PKI). */
  caFile?: string
}

export interface ChainConfig {
  /** Unset = start a local anvil node whose state lives in dataDir. */
  rpcUrl?: string
  /** ERC-1056 registry address; required with rpcUrl, deployed by medcred on the local node. */
  registry?: string
  /** did:ethr network name; defaults to the chain id in hex (e.g. `0x7a69`). */
  network?: string
  chainId?: number
  /** Hex private key of the account that pays gas for registry meta-transactions. Local node: its first dev account. */
  operatorPrivateKey?: string
  /** How long to wait for a transaction receipt before reporting the chain unavailable. */
  txTimeoutMs: number
  /**
   * How long an operator transaction may stay unmined before it is sent again (same nonce, fees a quarter
   * higher); a dropped one is re-broadcast unchanged (at most once a second). At or above txTimeoutMs, a
   * pending one is never re-sent.
   */
  txResendAfterMs: number
  /**
   * The most the operator offers per gas (maxFeePerGas, or gasPrice), in wei. Unset: ten times the market's
   * fee cap when each send starts (OperatorSender's DEFAULT_CEILING_MARKET_MULTIPLE).
   */
  maxFeePerGas?: bigint
}

export interface LimitsConfig {
  /** Largest accepted request body, in bytes. */
  bodyBytes: number
  /** Requests per client per minute: per authenticated institution (or the admin), else per address. */
  ratePerMinute: number
  /**
   * Failed authentications per client address per minute; past it, that address gets 429 for any token
   * until the minute ends (keys are never checked meanwhile, so guessing stops; the lockout ends by itself).
   */
  authFailuresPerMinute: number
}

const intFrom = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback)

const hexKey = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a 32-byte hex private key')
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address')

const EnvSchema = z
  .object({
    PORT: intFrom(3000, 0, 65535),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
    PUBLIC_URL: z.url().optional(),
    KMS_SECRET_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hex characters (32 bytes)').optional(),
    ADMIN_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
    ETHR_RPC_URL: z.url().optional(),
    ETHR_REGISTRY: address.optional(),
    ETHR_NETWORK: z.string().regex(/^[a-zA-Z0-9:_-]+$/).optional(),
    ETHR_CHAIN_ID: z.coerce.number().int().positive().optional(),
    ETHR_OPERATOR_KEY: hexKey.optional(),
    TX_TIMEOUT_MS: intFrom(30_000, 100),
    CHAIN_TX_RESEND_AFTER_MS: intFrom(15_000, 50),
    CHAIN_MAX_FEE_GWEI: z.string().regex(/^\d{1,12}(\.\d{1,9})?$/, 'a decimal number of gwei, e.g. 50 or 0.5').refine((v) => Number(v) > 0, 'more than 0').optional(),
    BODY_LIMIT_BYTES: intFrom(256 * 1024, 1024),
    RATE_LIMIT_PER_MINUTE: intFrom(600, 1),
    AUTH_FAILURES_PER_MINUTE: intFrom(10, 1),
    CLOCK_SKEW_SECONDS: intFrom(60, 0, 300),
    AUDIT_ANCHOR_EVERY: intFrom(100, 1, 10_000),
    AUDIT_ANCHOR_SECONDS: intFrom(60, 1, 86_400),
    STATUS_LIST_ALLOWED_HOSTS: z.string().regex(/^[a-z0-9.,:-]*$/i, 'a comma-separated list of host names').default(''),
    STATUS_LIST_ALLOW_LOOPBACK: z.enum(['0', '1']).default('0'),
    BITSTRING_STATUS_LIST_TTL_MS: intFrom(60_000, 1_000, 86_400_000),
    DID_WEB_ALLOWED_HOSTS: z.string().regex(/^[a-z0-9.,-]*$/i, 'a comma-separated list of host names').default(''),
    DID_WEB_ALLOW_LOOPBACK: z.enum(['0', '1']).default('0'),
    DID_WEB_CA_FILE: z.string().optional(),
    CHALLENGE_TTL_SECONDS: intFrom(300, 10, 86_400),
    DID_CACHE_POLL_MS: intFrom(250, 20, 60_000),
    KB_JWT_MAX_AGE_SECONDS: intFrom(300, 10, 3600),
    PATIENT_TOKEN_MAX_SECONDS: intFrom(300, 10, 300),
    WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
    OID4VCI_OFFER_TTL_SECONDS: intFrom(600, 10, 30 * 86_400),
    OID4VCI_NONCE_TTL_SECONDS: intFrom(300, 10, 3_600),
    OID4VCI_TOKEN_TTL_SECONDS: intFrom(300, 10, 3_600),
    OID4VP_REQUEST_TTL_SECONDS: intFrom(600, 10, 86_400),
    METRICS_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
    CORS_ORIGINS: z
      .string()
      .regex(/^(https?:\/\/[a-z0-9.-]+(:\d{1,5})?)(,\s*https?:\/\/[a-z0-9.-]+(:\d{1,5})?)*$/i, 'a comma-separated list of origins such as https://office.example.org')
      .optional(),
    SHUTDOWN_GRACE_MS: intFrom(10_000, 0, 300_000),
    WEB_SESSION_TTL_SECONDS: intFrom(8 * 3600, 60, 7 * 86_400),
    WEB_SIGN_IN_LINK_TTL_SECONDS: intFrom(900, 10, 86_400),
    PRUNE_INTERVAL_SECONDS: intFrom(600, 1, 86_400),
    PRUNE_GRACE_SECONDS: intFrom(86_400, 0, 30 * 86_400),
    WEBHOOKS_ALLOW_LOOPBACK: z.enum(['0', '1']).default('0'),
    WEBHOOK_POLL_MS: intFrom(500, 10, 60_000),
    WEBHOOK_TIMEOUT_MS: intFrom(5_000, 100, 60_000),
    WEBHOOK_MAX_ATTEMPTS: intFrom(12, 1, 50),
    WEBHOOK_RETRY_BASE_MS: intFrom(10_000, 1),
    WEBHOOK_RETRY_MAX_MS: intFrom(3_600_000, 1),
  })
  .superRefine((env, ctx) => {
    if (env.ETHR_RPC_URL && !env.ETHR_REGISTRY)
      ctx.addIssue({ code: 'custom', path: ['ETHR_REGISTRY'], message: 'is required when ETHR_RPC_URL is set' })
    if (env.ETHR_RPC_URL && !env.ETHR_OPERATOR_KEY)
      ctx.addIssue({ code: 'custom', path: ['ETHR_OPERATOR_KEY'], message: 'is required when ETHR_RPC_URL is set' })
    if (env.WEBHOOK_RETRY_BASE_MS > env.WEBHOOK_RETRY_MAX_MS)
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_RETRY_BASE_MS'], message: 'must not exceed WEBHOOK_RETRY_MAX_MS' })
    if ((env.WEB_CONCURRENCY ?? 1) > 1 && !env.DATABASE_URL)
      ctx.addIssue({ code: 'custom', path: ['WEB_CONCURRENCY'], message: 'above 1 needs PostgreSQL (DATABASE_URL): a SQLite file has one writer, so one process serves it' })
    if (!env.ETHR_RPC_URL && env.ETHR_REGISTRY)
      ctx.addIssue({ code: 'custom', path: ['ETHR_REGISTRY'], message: 'only makes sense with ETHR_RPC_URL' })
  })

/** Thrown at start when the environment does not describe a runnable service. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = EnvSchema.safeParse(cleaned)
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`))
  }
  const e = parsed.data
  return {
    port: e.PORT,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    kmsSecretKey: e.KMS_SECRET_KEY,
    adminToken: e.ADMIN_TOKEN,
    chain: {
      rpcUrl: e.ETHR_RPC_URL,
      registry: e.ETHR_REGISTRY,
      network: e.ETHR_NETWORK,
      chainId: e.ETHR_CHAIN_ID,
      operatorPrivateKey: e.ETHR_OPERATOR_KEY,
      txTimeoutMs: e.TX_TIMEOUT_MS,
      txResendAfterMs: e.CHAIN_TX_RESEND_AFTER_MS,
      maxFeePerGas: e.CHAIN_MAX_FEE_GWEI === undefined ? undefined : parseUnits(e.CHAIN_MAX_FEE_GWEI, 'gwei'),
    },
    limits: { bodyBytes: e.BODY_LIMIT_BYTES, ratePerMinute: e.RATE_LIMIT_PER_MINUTE, authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE },
    clockSkewSeconds: e.CLOCK_SKEW_SECONDS,
    audit: { anchorEvery: e.AUDIT_ANCHOR_EVERY, anchorSeconds: e.AUDIT_ANCHOR_SECONDS },
    challengeTtlSeconds: e.CHALLENGE_TTL_SECONDS,
    didCachePollMs: e.DID_CACHE_POLL_MS,
    kbJwtMaxAgeSeconds: e.KB_JWT_MAX_AGE_SECONDS,
    patientTokenMaxSeconds: e.PATIENT_TOKEN_MAX_SECONDS,
    webConcurrency: e.WEB_CONCURRENCY ?? (e.DATABASE_URL ? os.availableParallelism() : 1),
    oid4vc: {
      offerTtlSeconds: e.OID4VCI_OFFER_TTL_SECONDS,
      nonceTtlSeconds: e.OID4VCI_NONCE_TTL_SECONDS,
      accessTokenTtlSeconds: e.OID4VCI_TOKEN_TTL_SECONDS,
      requestTtlSeconds: e.OID4VP_REQUEST_TTL_SECONDS,
    },
    web: { sessionTtlSeconds: e.WEB_SESSION_TTL_SECONDS, signInLinkTtlSeconds: e.WEB_SIGN_IN_LINK_TTL_SECONDS },
    pruning: { intervalSeconds: e.PRUNE_INTERVAL_SECONDS, graceSeconds: e.PRUNE_GRACE_SECONDS },
    statusLists: {
      allowedHosts: e.STATUS_LIST_ALLOWED_HOSTS.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
      allowLoopback: e.STATUS_LIST_ALLOW_LOOPBACK === '1',
      bitstringTtlMs: e.BITSTRING_STATUS_LIST_TTL_MS,
    },
    didWeb: {
      allowedHosts: e.DID_WEB_ALLOWED_HOSTS.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
      allowLoopback: e.DID_WEB_ALLOW_LOOPBACK === '1',
      caFile: e.DID_WEB_CA_FILE ? path.resolve(e.DID_WEB_CA_FILE) : undefined,
    },
    http: {
      metricsToken: e.METRICS_TOKEN,
      corsOrigins: (e.CORS_ORIGINS ?? '').split(',').map((o) => o.trim().toLowerCase()).filter(Boolean),
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    },
    webhooks: {
      allowLoopback: e.WEBHOOKS_ALLOW_LOOPBACK === '1',
      pollMs: e.WEBHOOK_POLL_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
    },
  }
}
