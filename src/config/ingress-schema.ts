/**
 * @module The Kubernetes `networking.k8s.io/v1` Ingress shape, verbatim, so a user can paste a spec.
 *
 * Validation follows the Kubernetes API rules (kubernetes/api networking/v1 types.go): Exact and
 * Prefix paths start with "/", hosts are DNS names or "*.<dns name>" without a port, and a backend
 * names a service (here: a pool) with a port given by number or name.
 */
import { z } from 'zod'
import { size } from './schema-types.js'

export const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const
export type PathType = (typeof PATH_TYPES)[number]

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/

/** Checks an Ingress rule host; returns a message or undefined. */
export function checkIngressHost(host: string): string | undefined {
  const expected = 'expected a DNS name such as app.example.com or a wildcard such as *.example.com, without a port'
  if (host.includes(':')) return `host ${JSON.stringify(host)} must not contain a port — ${expected}`
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return `host ${JSON.stringify(host)} is an IP address, which Ingress does not allow — omit host to match any host`
  const name = host.startsWith('*.') ? host.slice(2) : host
  if (host === '*' || !DNS_NAME.test(name)) return `invalid host ${JSON.stringify(host)} — ${expected}`
  return undefined
}

const ServicePort = z
  .strictObject({
    number: z.int({ error: 'expected a port number from 1 to 65535' }).min(1, { error: 'expected a port number from 1 to 65535' }).max(65535, { error: 'expected a port number from 1 to 65535' }).optional().meta({ description: 'Service port by number. Accepted for compatibility and ignored: endpoints carry their own ports.' }),
    name: z.string({ error: 'expected a port name such as http' }).min(1).optional().meta({ description: 'Service port by name (instead of `number`). Accepted and ignored.' }),
  })
  .refine((port) => (port.number === undefined) !== (port.name === undefined), {
    error: 'expected exactly one of port.number or port.name',
  })

/** `backend.service.name` names a Latch pool; `port` is accepted for compatibility (see README). */
export const IngressBackend = z.strictObject({
  service: z.strictObject(
    {
      name: z.string({ error: 'expected the name of a pool' }).min(1, { error: 'expected the name of a pool' }).meta({ description: 'Name of the Latch pool that serves the request.' }),
      port: ServicePort.optional().meta({ description: 'Kubernetes service port: exactly one of `number` or `name`.' }),
    },
    { error: 'expected service: { name: <pool>, port: { number: 80 } } (resource backends are not supported)' },
  ).meta({ description: 'The pool to send to, named like a Kubernetes service. Resource backends are not supported.' }),
})

export const IngressPath = z.strictObject({
  path: z.string({ error: 'expected a path such as /api' }).optional().meta({ description: 'Exact and Prefix: a path starting with `/`. ImplementationSpecific: a regular expression matched from the start of the path (default `/`).' }),
  pathType: z.enum(PATH_TYPES, { error: 'expected one of Exact, Prefix, ImplementationSpecific' }).meta({ description: '`Exact`: the whole path, case-sensitive. `Prefix`: whole `/`-separated elements (`/api` matches `/api/x`, not `/apix`). `ImplementationSpecific`: regular expression.' }),
  backend: IngressBackend.meta({ description: 'Where matching requests go.' }),
  /** Latch extension: a per-path request body limit. */
  maxBodySize: size().optional().meta({ description: 'Latch extension: request body limit for this path (overrides the pool and server limits).' }),
})

const IngressRule = z.strictObject({
  host: z
    .string({ error: 'expected a host name' })
    .superRefine((host, ctx) => {
      const problem = checkIngressHost(host)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', input: host, message: problem })
    })
    .optional()
    .meta({ description: 'Host this rule serves: a DNS name or `*.example.com` (exactly one extra label); compared case-insensitively, without the port. Omitted: any host no other rule names.' }),
  http: z
    .strictObject({
      paths: z.array(IngressPath, { error: 'expected a list of paths' }).min(1, { error: 'expected at least one path' }).meta({ description: 'Path rules of this host; the longest matching path wins.' }),
    })
    .optional()
    .meta({ description: 'HTTP path rules.' }),
})

/** An Ingress `spec`: `defaultBackend`, `rules`; `ingressClassName` and `tls` are accepted and ignored. */
export const IngressSpec = z.strictObject({
  ingressClassName: z.string().optional().meta({ description: 'Accepted and ignored (Latch serves every Ingress it is given).' }),
  defaultBackend: IngressBackend.optional().meta({ description: 'Where a request goes when no rule of its host group matches; without it such requests get 404 `ERR_NO_ROUTE`.' }),
  rules: z.array(IngressRule, { error: 'expected a list of rules' }).optional().meta({ description: 'Host rules, each with its path rules.' }),
  tls: z.array(z.unknown()).optional().meta({ description: 'Accepted and ignored: configure TLS on listeners.' }),
})

export type IngressSpecInput = z.input<typeof IngressSpec>
export type IngressSpecConfig = z.output<typeof IngressSpec>

/** A full manifest (`kind: Ingress`), as found in files given to `routes`. */
export const IngressManifest = z.object({
  apiVersion: z.literal('networking.k8s.io/v1', { error: 'expected apiVersion networking.k8s.io/v1' }),
  kind: z.literal('Ingress'),
  metadata: z
    .object({
      name: z.string().optional(),
      namespace: z.string().optional(),
      annotations: z.record(z.string(), z.string({ error: 'annotation values must be strings (quote them)' })).optional(),
    })
    .optional(),
  spec: IngressSpec,
})

export type IngressManifestConfig = z.output<typeof IngressManifest>
