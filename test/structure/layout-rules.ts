import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layer rules of the codebase (docs/architecture.md), read from the files under a repository root:
 * - no import cycle between our modules (type-only imports count: a cycle of types is still a knot);
 * - the AWS SDK (`@aws-sdk/*`) only in functions/adapters/ and local/ (and, in cli/, only the credentials
 *   chain, in the one file that signs requests; in a pack, only its tests); lib/ and bin/ are CDK only;
 * - functions/core is pure domain: no `process.env`, no import from actions/, handlers/, adapters/ or packs/;
 * - every file and folder name is kebab-case (as aws-cdk-lib: `state-machine.ts`).
 * Each violation is one line `rule: detail`, stable across runs, so that an allowlist can name it exactly.
 */
export const RULES = ['cycle', 'aws-sdk', 'cdk-only', 'process-env', 'core-imports-outer', 'file-name'] as const;
export type Rule = (typeof RULES)[number];

export interface Layout {
  /** Every .ts file under the source roots, repository-relative. */
  readonly sources: readonly string[];
  /** Relative imports that name no file (`file → specifier`): the graph would be wrong. */
  readonly unresolved: readonly string[];
  readonly violations: ReadonlyMap<Rule, readonly string[]>;
  /** For each cycle, one shortest path round it, a → b → a: where to cut. */
  readonly cycleHints: readonly string[];
}

type Graph = ReadonlyMap<string, readonly Import[]>;

const posix = (root: string, path: string) => relative(root, path).split(sep).join('/');

const SOURCE_ROOTS = ['functions', 'lib', 'local', 'bin', 'cli', 'packs'] as const;
/** Where names are checked: the source roots and everything else we write by hand. */
const NAMED_ROOTS = [...SOURCE_ROOTS, 'test', 'bench', 'statemachines', 'policies', 'docs'] as const;
const SKIPPED_FOLDERS = new Set(['node_modules', 'cdk.out', '.maestro']);

function walk(folder: string, out: string[] = []): string[] {
  if (!existsSync(folder)) return out;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (SKIPPED_FOLDERS.has(entry.name)) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      out.push(`${path}${sep}`);
      walk(path, out);
    } else out.push(path);
  }
  return out;
}

interface Import {
  readonly specifier: string;
  /** The imported file, repository-relative, when the specifier is relative. */
  readonly target?: string;
}

/** Static `import … from`, `export … from`, side-effect `import '…'` and dynamic `import('…')`, type-only included. */
const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function importsOf(root: string, file: string, text: string): Import[] {
  const found: Import[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const specifier = match[1];
      if (!specifier.startsWith('.')) found.push({ specifier });
      else found.push({ specifier, target: posix(root, resolve(root, dirname(file), specifier)) });
    }
  }
  return found;
}

/** Tarjan's strongly connected components; each component of two or more files (or a file importing itself) holds a cycle. */
function stronglyConnected(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return components.filter((c) => c.length > 1 || (edges.get(c[0]) ?? []).includes(c[0]));
}

/** The shortest cycle through the component's first file (breadth-first inside the component), written a → b → … → a. */
function shortestCycle(component: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i += 1) {
    const node = queue[i];
    for (const next of edges.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start].join(' → ');
      }
      if (!previous.has(next) && next !== start) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

/** One entry per knot: `cycle: ` and the files of the strongly connected component, sorted, joined by ` ↔ `. */
function importCycles(graph: Graph): { keys: string[]; hints: string[] } {
  const edges = new Map(
    [...graph].map(([file, imports]) => [file, [...new Set(imports.flatMap((i) => (i.target && graph.has(i.target) ? [i.target] : [])))].sort()]),
  );
  const components = stronglyConnected(edges);
  return { keys: components.map((component) => `cycle: ${component.join(' ↔ ')}`), hints: components.map((component) => shortestCycle(component, edges)) };
}

const AWS_SDK_ALLOWED = ['functions/adapters/', 'local/'];
/** The CLI talks to Maestro's API only: it uses the SDK for the caller's credentials, to sign with SigV4, and nothing else. */
const CLI_SDK_ALLOWED: ReadonlyMap<string, string> = new Map([['cli/sigv4.ts', '@aws-sdk/credential-providers']]);
/** lib/ and bin/ are the CDK app: aws-cdk-lib, constructs, cdk-nag and Node's built-ins only (and relative imports). */
const CDK_PACKAGES = /^(aws-cdk-lib|constructs|cdk-nag)(\/|$)|^node:/;

function packageViolations(graph: Graph): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    for (const { specifier } of imports) {
      if (specifier.startsWith('.')) continue;
      if (specifier.startsWith('@aws-sdk/') && CLI_SDK_ALLOWED.get(file) === specifier) continue;
      // A pack's tests read the embedded services back with the SDK, as test/ does; its actions use the ports only.
      const packTest = /^packs\/[^/]+\/test\//.test(file);
      if (specifier.startsWith('@aws-sdk/') && !packTest && !AWS_SDK_ALLOWED.some((folder) => file.startsWith(folder)))
        found.push(`aws-sdk: ${file} imports ${specifier}`);
      else if ((file.startsWith('lib/') || file.startsWith('bin/')) && !CDK_PACKAGES.test(specifier)) found.push(`cdk-only: ${file} imports ${specifier}`);
    }
  }
  return found;
}

const CORE = 'functions/core/';
const OUTER_LAYERS = ['functions/actions/', 'functions/handlers/', 'functions/adapters/', 'functions/packs/'];

function coreViolations(graph: Graph, texts: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    if (!file.startsWith(CORE)) continue;
    texts
      .get(file)!
      .split('\n')
      .forEach((line, i) => {
        if (/\bprocess\s*(\.\s*env\b|\[\s*['"]env['"]\s*\])/.test(line)) found.push(`process-env: ${file}:${i + 1}`);
      });
    for (const { target } of imports) {
      const layer = target && OUTER_LAYERS.find((folder) => target.startsWith(folder));
      if (layer) found.push(`core-imports-outer: ${file} imports ${target}`);
    }
  }
  return found;
}

/** kebab-case words, then any number of dotted suffixes (`dynamodb-local.global.ts`, `run.asl.json`). */
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$/;
/** Names fixed by their tools or by convention. */
const CONVENTIONAL_NAMES = new Set(['README.md']);

function nameViolations(root: string): string[] {
  return NAMED_ROOTS.flatMap((folder) => walk(join(root, folder)))
    .map((path) => posix(root, path))
    .filter((path) => {
      const name = path.split('/').filter(Boolean).at(-1)!;
      return !CONVENTIONAL_NAMES.has(name) && !KEBAB.test(name);
    })
    .map((path) => `file-name: ${path}`)
    .sort();
}

export function scanLayout(root: string): Layout {
  const sources = SOURCE_ROOTS.flatMap((folder) => walk(join(root, folder)))
    .filter((path) => path.endsWith('.ts'))
    .map((path) => posix(root, path))
    .sort();
  const texts = new Map(sources.map((file) => [file, readFileSync(join(root, file), 'utf8')]));
  const graph: Graph = new Map(sources.map((file) => [file, importsOf(root, file, texts.get(file)!)]));
  const unresolved = [...graph].flatMap(([file, imports]) =>
    imports.filter((i) => i.target && !existsSync(join(root, i.target))).map((i) => `${file} → ${i.specifier}`),
  );
  const cycles = importCycles(graph);
  const found = [...cycles.keys, ...packageViolations(graph), ...coreViolations(graph, texts), ...nameViolations(root)];
  const violations = new Map(RULES.map((rule) => [rule, found.filter((v) => v.startsWith(`${rule}: `)).sort()]));
  return { sources, unresolved, violations, cycleHints: cycles.hints };
}
