/**
 * Every relative link in README.md, docs/ and bench/ resolves: the file exists and, for a `#anchor`, the
 * Markdown file has a heading with that GitHub slug. Links inside code (fenced or inline) are not
 * links, and absolute URLs (https:, mailto:) are not checked: the tests run without the Internet.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const REPO = resolve(import.meta.dirname, '../../..')

/** README.md and every Markdown file under docs/ and bench/, relative to `root`. */
function markdownFiles(root: string): string[] {
  const under = (folder: string): string[] => existsSync(join(root, folder))
    ? readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.md')).sort().map((name) => join(folder, name))
    : []
  return ['README.md', ...under('docs'), ...under('bench')]
}

/**
 * The text without fenced code blocks, and with inline code spans that hold link syntax blanked:
 * links in code are examples, not links. Other code spans stay (headings such as `### \`store\``).
 */
function withoutCode(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, (span) => (span.includes('](') ? '``' : span))
}

/** GitHub's heading anchor: lower case, punctuation dropped (letters, digits, `-`, `_` kept), spaces to `-`. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading keeps its text
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats get -1, -2, …, as on GitHub). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const match of withoutCode(text).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const slug = githubSlug(match[1] as string)
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    out.add(count === 0 ? slug : `${slug}-${count}`)
  }
  for (const match of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(match[1] as string)
  return out
}

/** The broken relative links of the Markdown files under `root`, as `file: [label](target): why`. */
function brokenLinks(root: string): string[] {
  const problems: string[] = []
  const cache = new Map<string, Set<string>>()
  const anchorsOf = (file: string): Set<string> => {
    if (!cache.has(file)) cache.set(file, anchors(readFileSync(file, 'utf8')))
    return cache.get(file) as Set<string>
  }
  for (const file of markdownFiles(root)) {
    const absolute = join(root, file)
    for (const match of withoutCode(readFileSync(absolute, 'utf8')).matchAll(/!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const [link, , target] = match as unknown as [string, string, string]
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue
      const hash = target.indexOf('#')
      const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash))
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1))
      const destination = path === '' ? absolute : resolve(dirname(absolute), path)
      if (!existsSync(destination)) {
        problems.push(`${file}: ${link}: ${relative(root, destination)} does not exist`)
        continue
      }
      if (anchor === undefined) continue
      if (!destination.endsWith('.md') || statSync(destination).isDirectory()) {
        problems.push(`${file}: ${link}: an anchor into a file that is not Markdown`)
      } else if (!anchorsOf(destination).has(anchor)) {
        problems.push(`${file}: ${link}: ${relative(root, destination)} has no heading #${anchor}`)
      }
    }
  }
  return problems
}

describe('links in README.md, docs/ and bench/', () => {
  it('every relative link and anchor resolves', () => {
    expect(markdownFiles(REPO).length).toBeGreaterThan(10)
    expect(brokenLinks(REPO)).toEqual([])
  })

  it('the README links into docs/ for each guide, concept and reference', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
    const linked = new Set([...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((match) => match[1]))
    const docs = markdownFiles(REPO).filter((file) => file.startsWith('docs/'))
    expect(docs.filter((file) => !linked.has(file))).toEqual([])
  })

  it('name nothing outside the repository (the docs stand on their own)', () => {
    const outside = markdownFiles(REPO).flatMap((file) =>
      readFileSync(join(REPO, file), 'utf8').split('\n').flatMap((line, index) => (/\.\.\/shared|shared\/bench/.test(line) ? [`${file}:${index + 1}: ${line}`] : [])))
    expect(outside).toEqual([])
  })

  it('anchors follow GitHub’s slug rules', () => {
    expect(githubSlug('Using the `latch` command')).toBe('using-the-latch-command')
    expect(githubSlug('TLS and HTTP/2')).toBe('tls-and-http2')
    expect(githubSlug('Client IP, `client-ip`, `hash` and `learn`')).toBe('client-ip-client-ip-hash-and-learn')
    expect(githubSlug('docker compose: two replicas + Redis')).toBe('docker-compose-two-replicas--redis')
    expect(githubSlug('When the bound endpoint is unavailable, draining or removed')).toBe('when-the-bound-endpoint-is-unavailable-draining-or-removed')
  })

  it('reports a missing file, a missing anchor and an anchor into a non-Markdown file, and ignores code', () => {
    const root = mkdtempSync(join(tmpdir(), 'latch-links-'))
    try {
      mkdirSync(join(root, 'docs', 'guides'), { recursive: true })
      writeFileSync(join(root, 'README.md'), [
        '# Title', '', '## Two words', '## Two words', '',
        '[ok](#two-words) [ok](#two-words-1) [ok](docs/guides/a.md#a-heading) [ok](https://example.com/nowhere)',
        '[gone](docs/missing.md) [bad anchor](#three-words) [not md](package.json#x)',
        '`[code](nowhere.md)`', '```md', '[fenced](nowhere.md)', '```',
      ].join('\n'))
      writeFileSync(join(root, 'package.json'), '{}')
      writeFileSync(join(root, 'docs', 'guides', 'a.md'), '# A heading\n\n[up](../../README.md#title) [wrong](../README.md)\n')
      expect(brokenLinks(root)).toEqual([
        'README.md: [gone](docs/missing.md): docs/missing.md does not exist',
        'README.md: [bad anchor](#three-words): README.md has no heading #three-words',
        'README.md: [not md](package.json#x): an anchor into a file that is not Markdown',
        'docs/guides/a.md: [wrong](../README.md): docs/README.md does not exist',
      ])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
