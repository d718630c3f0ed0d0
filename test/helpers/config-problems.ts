/**
 * @module The problems a config file is refused for, one per line without the file name and line number.
 */
import { loadConfigFile } from '../../src/config/load.js'
import { ConfigError } from '../../src/errors/config-error.js'

/** Loads `file` expecting a ConfigError; returns its lines as `key.path: message` (throws if it loads). */
export function configProblems(file: string): string[] {
  try {
    loadConfigFile(file, {})
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.message.split('\n').map((line) => line.replace(`${file}: `, '').replace(/ \(line \d+\)$/, ''))
  }
  throw new Error('the config loaded without error')
}
