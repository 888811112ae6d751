'use strict'
// What npm derives from each test manifest, one JSON line per manifest, for
// ../differential.rs to compare with our normalizers.
//
// usage: node normalize.js <node_modules> <manifests.json> [<generated.json>]
//   <generated.json>: {
//     "licenseTexts": {"<manifest name>": ["license text", ...]}: texts our code derived from
//        license objects and arrays, validated here with npm's own validator,
//     "licenses": [...], "urls": [...], "people": [...], "deps": [...]: generated inputs,
//        each answered by one {"generated": kind, "input": ..., ...} line
//   }

const fs = require('node:fs')
const path = require('node:path')

const [nodeModules, manifestsPath, textsPath] = process.argv.slice(2)
if (!nodeModules || !manifestsPath) {
  console.error('usage: node normalize.js <node_modules> <manifests.json> [<texts.json>]')
  process.exit(2)
}
const load = (name) => require(path.join(path.resolve(nodeModules), name))
const hostedGitInfo = load('hosted-git-info')
const normalize = load('normalize-package-data')
const validateLicense = load('validate-npm-package-license')

const manifests = JSON.parse(fs.readFileSync(manifestsPath, 'utf8'))
const generated = textsPath ? JSON.parse(fs.readFileSync(textsPath, 'utf8')) : {}
const texts = generated.licenseTexts || {}

// normalize-package-data's own order (lib/normalize.js), run one fixer at a time so that
// a fixer that throws (a non-string repository url does) is reported, not fatal
const fields = ['name', 'version', 'description', 'repository', 'modules', 'scripts',
  'files', 'bin', 'man', 'bugs', 'keywords', 'readme', 'homepage', 'license']
const steps = fields.map((f) => f[0].toUpperCase() + f.slice(1) + 'Field')
  .concat(['Dependencies', 'People', 'Typos'])

const orNull = (v) => (v === undefined ? null : v)

function validity (text) {
  let r
  try {
    r = validateLicense(text)
  } catch (e) {
    // spdx-correct throws on some invalid inputs while looking for a suggestion (e.g.
    // "MIT /"): only invalid strings get that far
    return { valid: false, special: null, threw: e.message }
  }
  return {
    valid: r.validForNewPackages,
    special: r.unlicensed ? 'unlicensed' : r.inFile !== undefined ? 'inFile' : null,
  }
}

function hostedView (raw) {
  if (typeof raw !== 'string') {
    return null
  }
  const h = hostedGitInfo.fromUrl(raw)
  if (!h) {
    return null
  }
  return {
    type: h.type,
    user: orNull(h.user),
    project: orNull(h.project),
    committish: h.committish || null,
    auth: h.auth || null,
    default: h.getDefaultRepresentation(),
    browse: h.browse(),
    https: h.https(),
    sshurl: h.sshurl(),
    docs: h.docs(),
    bugs: orNull(h.bugs()),
    shortcut: h.shortcut(),
    toString: h.toString(),
    browseFile: h.browseFile('lib/index.js'),
    file: h.file('package.json'),
  }
}

// the repository URL as our `repository()` sees it: `repositories` first, an array by
// its first entry, an object by its url
function rawRepository (m) {
  let r = m.repositories || m.repository
  if (Array.isArray(r)) {
    r = r[0]
  }
  if (typeof r === 'string') {
    return r
  }
  return r && typeof r === 'object' && typeof r.url === 'string' ? r.url : null
}

for (const manifest of manifests) {
  const data = JSON.parse(JSON.stringify(manifest))
  const warnings = []
  const errors = {}
  normalize.fixer.warn = (...args) => warnings.push(args.join(' '))
  for (const step of steps) {
    try {
      normalize.fixer['fix' + step](data, false)
    } catch (e) {
      errors[step] = e.message
    }
  }
  const repo = data.repository
  const license = manifest.license
  console.log(JSON.stringify({
    name: manifest.name,
    errors,
    warnings,
    repositoryUrl: repo && typeof repo === 'object' && !Array.isArray(repo) ? orNull(repo.url) : null,
    hosted: hostedView(rawRepository(manifest)),
    author: orNull(data.author),
    maintainers: orNull(data.maintainers),
    contributors: orNull(data.contributors),
    bugs: orNull(data.bugs),
    homepage: orNull(data.homepage),
    keywords: orNull(data.keywords),
    bin: orNull(data.bin),
    dependencies: orNull(data.dependencies),
    devDependencies: orNull(data.devDependencies),
    // fixLicenseField: only a non-empty string can be valid
    license: typeof license === 'string' && license.trim() !== '' ? validity(license) : { valid: false, special: null },
    derivedLicenses: (texts[manifest.name] || []).map((text) => ({ text, ...validity(text) })),
  }))
}

for (const input of generated.licenses || []) {
  console.log(JSON.stringify({ generated: 'license', input, ...validity(input) }))
}
for (const input of generated.urls || []) {
  console.log(JSON.stringify({ generated: 'url', input, hosted: hostedView(input) }))
}
for (const input of generated.people || []) {
  const data = { author: input }
  normalize.fixer.fixPeople(data)
  console.log(JSON.stringify({ generated: 'person', input, person: data.author }))
}
for (const input of generated.deps || []) {
  const data = { dependencies: [input] }
  normalize.fixer.warn = () => {}
  normalize.fixer.fixDependencies(data)
  console.log(JSON.stringify({ generated: 'deps', input, dependencies: orNull(data.dependencies) }))
}
