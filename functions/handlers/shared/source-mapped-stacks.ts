import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces of a Lambda bundle in terms of its sources, as `--enable-source-maps` gives them, but
 * paid for when a stack is first formatted, not at every cold start: that flag parses the bundle's map
 * (1–2 MiB of JSON) when the bundle loads, +22 ms on the plan step's import and +33 ms on the API's
 * (measured, docs/performance.md). Here the map beside the bundle (`index.mjs.map`) is read and parsed
 * the first time any stack is formatted (an error logged), and frames in the bundle name the source
 * file, line and column (`functions/handlers/api.ts:60:11`); other frames are left as V8 writes them.
 * Run from the sources (no map beside the file), it changes nothing.
 */
export function installSourceMappedStacks(bundleUrl: string): boolean {
  if (!bundleUrl.startsWith('file:') || !bundleUrl.endsWith('.mjs')) return false;
  const bundleFile = fileURLToPath(bundleUrl);
  const mapFile = `${bundleFile}.map`;
  if (!existsSync(mapFile)) return false;
  sourceMaps().set(bundleFile, lazySourceMap(mapFile));
  return true;
}

type SourceMaps = Map<string, () => SourceMap | undefined>;
const SOURCE_MAPS = Symbol.for('maestro.sourceMappedStacks');

/**
 * The maps of the bundles loaded in this process (several in the embedded stack on bundles), and the one
 * formatter that reads them, installed with the first: process-wide, as Error.prepareStackTrace is.
 */
function sourceMaps(): SourceMaps {
  const holder = globalThis as { [SOURCE_MAPS]?: SourceMaps };
  if (!holder[SOURCE_MAPS]) {
    const maps: SourceMaps = new Map();
    holder[SOURCE_MAPS] = maps;
    Error.prepareStackTrace = (error, frames) => formatStack(error, frames, maps);
  }
  return holder[SOURCE_MAPS];
}

/** The map, parsed on first use and kept; undefined (and not tried again) when it cannot be read. */
function lazySourceMap(mapFile: string): () => SourceMap | undefined {
  let parsed: { map?: SourceMap } | undefined;
  return () => {
    if (!parsed) {
      try {
        parsed = { map: new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) };
      } catch {
        parsed = {};
      }
    }
    return parsed.map;
  };
}

function formatStack(error: Error, frames: NodeJS.CallSite[], maps: SourceMaps): string {
  let header: string;
  try {
    header = String(error);
  } catch {
    header = 'Error';
  }
  return [header, ...frames.map((frame) => `    at ${formatFrame(frame, maps)}`)].join('\n');
}

/** A frame names its file as a path or, in an ES module, a file: URL. */
const fileOf = (file: string) => (file.startsWith('file:') ? fileURLToPath(file) : file);

/** V8's own text for the frame, its bundle position replaced by the source's. */
function formatFrame(frame: NodeJS.CallSite, maps: SourceMaps): string {
  const text = String(frame);
  const file = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!file || line === null || column === null) return text;
  const map = maps.get(fileOf(file))?.();
  if (!map) return text;
  const origin = map.findOrigin(line, column) as { fileName?: string; lineNumber?: number; columnNumber?: number };
  if (!origin.fileName || origin.lineNumber === undefined || origin.columnNumber === undefined) return text;
  // Sources are named relative to the bundle's folder at synth (`../../functions/...` in cdk.out): without the climb, the repository path.
  const source = origin.fileName.replace(/^(?:\.\.\/)+/, '');
  return text.replace(`${file}:${line}:${column}`, `${source}:${origin.lineNumber}:${origin.columnNumber}`);
}
