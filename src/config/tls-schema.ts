/**
 * @module Config schema of TLS: listener certificates (termination, SNI, HTTP/2) and upstream TLS.
 *
 * Only the shape is checked here; whether the files exist, parse and match their keys is checked by
 * config/tls-checks.ts after the schema, so those messages name the file and the key path too.
 */
import { z } from 'zod'

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const
export type TlsVersion = (typeof TLS_VERSIONS)[number]

const tlsVersion = () => z.enum(TLS_VERSIONS, { error: `expected one of ${TLS_VERSIONS.join(', ')}` })

const pemPath = (what: string) => z.string({ error: `expected the path of a PEM ${what} file` }).min(1, { error: `expected the path of a PEM ${what} file` })

/** A DNS name as matched against SNI: `example.com` or one leading wildcard label, `*.example.com`. */
const SERVER_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

const Certificate = z.strictObject({
  cert: pemPath('certificate').meta({ description: 'PEM certificate chain file (leaf first). Relative paths are resolved against the config file\'s directory. Watched: a changed file is loaded without restart.' }),
  key: pemPath('private key').meta({ description: 'PEM private key file of `cert` (unencrypted).' }),
  serverNames: z
    .array(z.string({ error: 'expected a DNS name such as app.example.com or *.example.com' }).refine((name) => SERVER_NAME.test(name), { error: 'expected a DNS name such as app.example.com or *.example.com' }), { error: 'expected a list of DNS names' })
    .optional()
    .meta({ description: 'SNI names this certificate is served for (`*.example.com` matches one label). Omitted: the DNS names of the certificate\'s subjectAltName (or its CN).' }),
})

/** `tls` of a listener: terminate TLS with these certificates. */
export const ListenerTls = z
  .strictObject({
    cert: pemPath('certificate').optional().meta({ description: 'Default certificate chain (PEM file, leaf first): served when the client sends no SNI name or one no entry of `certificates` matches; its own names are matched after those of `certificates`. Defaults to the first of `certificates`. Relative to the config file\'s directory; watched, a changed file is served without restart.' }),
    key: pemPath('private key').optional().meta({ description: 'Private key of `cert` (PEM file, unencrypted).' }),
    certificates: z.array(Certificate, { error: 'expected a list of { cert, key, serverNames } entries' }).default([]).meta({ description: 'More certificates, chosen by the SNI name the client asks for (exact names first, then wildcards).' }),
    minVersion: tlsVersion().default('TLSv1.2').meta({ description: 'Oldest TLS version accepted from clients.' }),
  })
  .superRefine((tls, ctx) => {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: [tls.cert === undefined ? 'cert' : 'key'], message: 'cert and key go together — set both, or neither and list certificates' })
    }
    if (tls.cert === undefined && tls.key === undefined && tls.certificates.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['cert'], message: 'missing — a TLS listener needs a certificate: set cert and key, or list certificates' })
    }
  })

/** How a listener speaks HTTP/2: `true` (ALPN on TLS), `false` (HTTP/1.1 only) or `h2c` (cleartext, prior knowledge). */
export const ListenerHttp2 = z.union([z.boolean(), z.literal('h2c')], { error: 'expected true, false or "h2c"' })

/** `tls` of a pool: how Latch connects to `https://` endpoints. */
export const UpstreamTls = z.strictObject({
  ca: pemPath('CA certificate').optional().meta({ description: 'PEM file of the CA certificate(s) that endpoint certificates must chain to, instead of the system\'s trusted CAs. Relative to the config file\'s directory.' }),
  servername: z.string().min(1).optional().meta({ description: 'Name sent as SNI and checked against the endpoint certificate. Defaults to the endpoint URL\'s host (for IP addresses no SNI is sent and the certificate must name the IP).' }),
  insecureSkipVerify: z.boolean().default(false).meta({ description: 'Accept any endpoint certificate (no chain or name check). For tests only: anyone on the path can impersonate the endpoint. Logged as a warning at load.' }),
  minVersion: tlsVersion().default('TLSv1.2').meta({ description: 'Oldest TLS version offered to endpoints.' }),
})

export type ListenerTlsConfig = z.output<typeof ListenerTls>
export type UpstreamTlsConfig = z.output<typeof UpstreamTls>
