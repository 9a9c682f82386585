/**
 * Import rules of the layers (issue 12), checked on every `npm test` (`npm run depcruise`).
 *
 *   gateway/core   clock, timers, log, coded errors, events, ids, topics: imports nothing of ours
 *   drivers        protocols (codecs, transports, one-device drivers): drivers + core
 *   sim            simulators: sim + drivers + core, never gateway internals
 *   config         the compound file: core + family manifests (which hold the config slices)
 *   gateway        the daemon: anything above, never sim (only a demo entry under gateway/demo/ may)
 *   tests          anything
 *
 * Type-only imports count in the layer rules: an `import type` is erased at run time, but a
 * driver that needs a gateway type still cannot be read or reused without the gateway. Cycles
 * are counted among modules that load each other at evaluation (static value imports): the
 * compound config type is composed from the family manifests, which are typed by it, and a
 * manifest's load() imports its family's code lazily; neither can make a load-order bug.
 */

/** Every folder of ours, for "to anything of ours except ...". */
const OURS = '^(gateway|drivers|sim|config|tests|bin)/';

/**
 * Violations that exist on this branch and belong to another engineer's area this session.
 * TEMPORARY: the lead deletes each entry when the branch that fixes it is merged; a new
 * violation is never added here.
 */
const KNOWN_VIOLATIONS = [];

/** A rule's `from.pathNot` for its known violations. */
function knownFrom(rule) {
  return KNOWN_VIOLATIONS.filter((v) => v.rule === rule).map((v) => v.from);
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing-of-ours',
      comment: 'gateway/core is the bottom layer: only node: builtins and npm packages.',
      severity: 'error',
      from: { path: '^gateway/core/' },
      to: { path: OURS, pathNot: '^gateway/core/' },
    },
    {
      name: 'drivers-import-only-drivers-and-core',
      comment: 'A protocol driver is usable without the gateway (simulators, tools, other daemons).',
      severity: 'error',
      from: { path: '^drivers/' },
      to: { path: OURS, pathNot: '^(drivers|gateway/core)/' },
    },
    {
      name: 'sim-imports-only-sim-drivers-and-core',
      comment: 'Simulators speak the protocols from the device side; they never reach into the gateway.',
      severity: 'error',
      from: { path: '^sim/' },
      to: { path: OURS, pathNot: '^(sim|drivers|gateway/core|config)/' },
    },
    {
      name: 'sim-reads-config-slices-only',
      comment:
        'A simulator is configured by the same compound file as the gateway (gatehouse sim --config FILE), so it may ' +
        "use a family's config slice (its types, the default names of its secrets) but never the composed schema or " +
        'the loader, which pull in the family registry (import type only).',
      severity: 'error',
      from: { path: '^sim/' },
      to: { path: '^config/(schema|load)[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'config-imports-only-core-and-family-manifests',
      comment:
        'The compound file schema is composed from the family manifests (their zod config slices); ' +
        'it never imports a family implementation, a driver or a simulator.',
      severity: 'error',
      from: { path: '^config/' },
      to: { path: OURS, pathNot: '^(config|gateway/core|gateway/families)/' },
    },
    {
      name: 'daemon-never-imports-sim',
      comment: 'The daemon runs on the box; simulators are for demos and tests (a demo entry lives under gateway/demo/).',
      severity: 'error',
      from: { path: '^gateway/', pathNot: ['^gateway/demo/', ...knownFrom('daemon-never-imports-sim')] },
      to: { path: '^sim/' },
    },
    {
      name: 'no-circular',
      comment:
        "No cycle of modules that load each other at evaluation. Type-only imports are erased by tsc, and a manifest's " +
        'load() imports its family lazily, after every module is evaluated: neither can make a load-order bug. They are ' +
        'left out because the compound config type is composed from the family manifests, which are typed by it.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only', 'dynamic-import'] } },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that cannot be resolved would also hide from every rule above (e.g. a stale dist/ path).',
      severity: 'error',
      // The seccomp probe runs the built daemon code under plain node (no tsx inside the
      // filter), so its dist/ import only resolves after `npm run build`; lint runs first.
      from: { pathNot: '^tests/helpers/sandbox-probe\\.mjs$' },
      to: { couldNotResolve: true },
    },
    {
      name: 'shipped-code-uses-no-dev-dependency',
      comment:
        'The box installs production dependencies only: the daemon, drivers and simulators (the demo) must not need a devDependency at run time.',
      severity: 'error',
      from: { path: '^(gateway|drivers|sim|config)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-undeclared-package',
      comment: 'A package imported by shipped code must be listed in package.json, not merely present in node_modules.',
      severity: 'error',
      from: { path: '^(gateway|drivers|sim|config)/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    // Count `import type` too (see the head of this file).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
