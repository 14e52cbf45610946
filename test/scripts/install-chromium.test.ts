import { ChromiumNotFoundError } from '../../scripts/find-chromium.mjs'
import {
  chromiumInstallPlan,
  ChromiumInstallError,
  ensureChromium,
  type InstallStep,
  type PlatformFacts,
} from '../../scripts/install-chromium.mjs'

const debianRoot: PlatformFacts = {
  platform: 'linux',
  isRoot: true,
  distribution: 'debian',
  distributionFamily: '',
  hasAptGet: true,
  playwrightCli: '/repo/node_modules/playwright/cli.js',
  optedOut: false,
}

const commandLine = (step: InstallStep) => [step.command, ...step.args].join(' ')

describe('chromiumInstallPlan', () => {
  it("installs Debian's chromium with apt-get as root on Debian", () => {
    const plan = chromiumInstallPlan(debianRoot)
    expect(plan.steps.map(commandLine)).toEqual(['apt-get update -qq', 'apt-get install -y -qq chromium'])
    expect(plan.steps[1]?.env).toEqual({ DEBIAN_FRONTEND: 'noninteractive' })
  })

  it('installs nothing on Debian without root, and names the sudo command', () => {
    const plan = chromiumInstallPlan({ ...debianRoot, isRoot: false })
    expect(plan.steps).toEqual([])
    expect(plan.manualCommand).toBe('sudo apt-get update && sudo apt-get install -y chromium')
  })

  it("uses Playwright's installer with system dependencies as root on Ubuntu (apt's chromium is a snap wrapper)", () => {
    for (const facts of [
      { ...debianRoot, distribution: 'ubuntu', distributionFamily: 'debian' },
      { ...debianRoot, distribution: 'linuxmint', distributionFamily: 'ubuntu debian' },
    ]) {
      const plan = chromiumInstallPlan(facts)
      expect(plan.steps.map((step) => step.args.join(' '))).toEqual([
        '/repo/node_modules/playwright/cli.js install --with-deps chromium',
      ])
      expect(plan.manualCommand).toBe('npx playwright install --with-deps chromium')
    }
  })

  it("uses Playwright's installer without system dependencies elsewhere", () => {
    const plan = chromiumInstallPlan({ ...debianRoot, platform: 'darwin', isRoot: false, distribution: '' })
    expect(plan.steps.map((step) => step.args.join(' '))).toEqual([
      '/repo/node_modules/playwright/cli.js install chromium',
    ])
    expect(plan.manualCommand).toBe('npx playwright install chromium')
  })

  it('installs nothing when opted out or when Playwright is missing off Debian', () => {
    expect(chromiumInstallPlan({ ...debianRoot, optedOut: true }).steps).toEqual([])
    expect(chromiumInstallPlan({ ...debianRoot, distribution: 'fedora', playwrightCli: null }).steps).toEqual([])
  })
})

describe('ensureChromium', () => {
  const missing = () => {
    throw new ChromiumNotFoundError(['/usr/bin/chromium: not an executable file'])
  }

  it('returns the Chromium found without installing anything', async () => {
    const run = vi.fn()
    await expect(ensureChromium({ find: () => '/usr/bin/chromium', run, env: {}, log: () => undefined })).resolves.toBe(
      '/usr/bin/chromium',
    )
    expect(run).not.toHaveBeenCalled()
  })

  it('runs the plan when none is found, says what it does, and returns the installed path', async () => {
    const lines: string[] = []
    let installed = false
    const ran: string[] = []
    const path = await ensureChromium({
      facts: debianRoot,
      env: {},
      log: (line) => lines.push(line),
      find: () => (installed ? '/usr/bin/chromium' : missing()),
      run: async (step) => {
        ran.push(commandLine(step))
        if (step.args.includes('chromium')) installed = true
        return { ok: true, detail: 'exit code 0' }
      },
    })
    expect(path).toBe('/usr/bin/chromium')
    expect(ran).toEqual(['apt-get update -qq', 'apt-get install -y -qq chromium'])
    expect(lines).toEqual([
      "No Chromium found: installing Debian's chromium package with apt-get (about 80 s).",
      'Installed: /usr/bin/chromium',
    ])
  })

  it('fails fast with the one command to run when a step fails', async () => {
    const run = vi.fn(async () => ({ ok: false, detail: 'exit code 100' }))
    const failure = ensureChromium({ facts: debianRoot, env: {}, log: () => undefined, find: missing, run })
    await expect(failure).rejects.toThrow(ChromiumInstallError)
    await expect(failure).rejects.toMatchObject({ command: 'apt-get update && apt-get install -y chromium' })
    expect(run).toHaveBeenCalledTimes(1)
  })

  it('does not install when nothing can be installed here, and names the command', async () => {
    const run = vi.fn()
    const failure = ensureChromium({ facts: { ...debianRoot, isRoot: false }, env: {}, find: missing, run })
    await expect(failure).rejects.toMatchObject({
      message: 'No Chromium found, and not root, so apt-get cannot install chromium.',
      command: 'sudo apt-get update && sudo apt-get install -y chromium',
    })
    expect(run).not.toHaveBeenCalled()
  })

  it('does not install over a CHROMIUM_PATH that is wrong: that is a setting to fix', async () => {
    const run = vi.fn()
    const failure = ensureChromium({ facts: debianRoot, env: { CHROMIUM_PATH: '/nope' }, find: missing, run })
    await expect(failure).rejects.toThrow(ChromiumNotFoundError)
    expect(run).not.toHaveBeenCalled()
  })
})
