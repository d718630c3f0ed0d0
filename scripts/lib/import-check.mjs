/**
 * @module Finds package imports in the image's code that its production install cannot satisfy.
 *
 * Starting the proxy only loads the modules on its start path; a lazily imported devDependency would
 * still crash later. So every `.js`/`.mjs` file outside node_modules is read, and each bare import
 * (static, dynamic or require) must name a package that package.json lists in `dependencies` (or
 * optional/peer dependencies) and that `npm ci --omit=dev` actually installed.
 */
import { existsSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, relative } from 'node:path'
import { filesBelow } from './files.mjs'

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"\s]+)['"]/g
const BUILTINS = new Set(builtinModules)

/** Returns one message per import the installed app in `appDir` cannot satisfy (empty when all is well). */
export function checkPackageImports(appDir) {
  const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8'))
  const allowed = new Set(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }))
  const problems = []
  for (const file of filesBelow(appDir, /\.[cm]?js$/)) {
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(SPECIFIER)) {
      const name = packageName(match[1])
      if (name === undefined) continue
      const where = relative(appDir, file)
      if (!allowed.has(name)) problems.push(`${where} imports "${name}", which is not in package.json dependencies (a devDependency or undeclared package would be missing in the image)`)
      else if (!existsSync(join(appDir, 'node_modules', name, 'package.json'))) problems.push(`${where} imports "${name}", which npm ci --omit=dev did not install`)
    }
  }
  return [...new Set(problems)]
}

/** The package a specifier loads from, or undefined for relative paths and Node built-ins. */
function packageName(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || specifier.startsWith('#')) return undefined
  const parts = specifier.split('/')
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
  return BUILTINS.has(name) ? undefined : name
}
