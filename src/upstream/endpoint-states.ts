/**
 * @module The states an endpoint reports (see endpoint.ts for how they are derived). A leaf module:
 * the admin API's and the embedding API's snapshot types use them without loading the endpoint.
 */

export type EndpointState = 'healthy' | 'stalled' | 'unhealthy' | 'draining' | 'maintenance'
export type AdminState = 'active' | 'draining' | 'maintenance'
/** `unknown`: no active checks, or not checked yet at start; `pending`: added later, not yet checked. */
export type CheckState = 'unknown' | 'pending' | 'healthy' | 'unhealthy'
/** Where an endpoint came from: the config file or DNS discovery. */
export type EndpointSource = 'static' | 'discovery'
