import { describe, expect, it } from 'vitest'
import { routeRows } from '../../../src/admin/route-listing.js'
import { validateConfig } from '../../../src/config/load.js'

describe('routeRows', () => {
  it('lists exact hosts, then wildcards, then any host, then the default backend; paths in matching order', () => {
    const path = (p: string, pathType: string, pool: string) => ({ path: p, pathType, backend: { service: { name: pool } } })
    const loaded = validateConfig(
      {
        listen: '127.0.0.1:0',
        pools: ['a', 'b', 'c'].map((name, index) => ({ name, endpoints: [`http://127.0.0.1:${index + 1}`] })),
        routes: {
          defaultBackend: { service: { name: 'c' } },
          rules: [
            { http: { paths: [path('/', 'Prefix', 'c')] } },
            { host: '*.example.com', http: { paths: [path('/', 'Prefix', 'b')] } },
            { host: 'app.example.com', http: { paths: [path('/', 'Prefix', 'a'), path('/api/', 'Prefix', 'b'), path('/api', 'Exact', 'a')] } },
          ],
        },
      },
      { file: 'routes-test.yaml', baseDir: process.cwd(), env: {} },
    )
    expect(routeRows(loaded.routes)).toEqual([
      { host: 'app.example.com', path: '/api', pathType: 'Exact', pool: 'a', backends: [{ pool: 'a', weight: 1 }] },
      { host: 'app.example.com', path: '/api', pathType: 'Prefix', pool: 'b', backends: [{ pool: 'b', weight: 1 }] },
      { host: 'app.example.com', path: '/', pathType: 'Prefix', pool: 'a', backends: [{ pool: 'a', weight: 1 }] },
      { host: '*.example.com', path: '/', pathType: 'Prefix', pool: 'b', backends: [{ pool: 'b', weight: 1 }] },
      { host: '*', path: '/', pathType: 'Prefix', pool: 'c', backends: [{ pool: 'c', weight: 1 }] },
      { host: '*', path: null, pathType: 'defaultBackend', pool: 'c', backends: [{ pool: 'c', weight: 1 }] },
    ])
  })
})
