#!/usr/bin/env node
// Finds import cycles between the TypeScript modules under the given folders (default: src).
// Usage: node scripts/check-cycles.mjs [--runtime] [dir...]
//   --runtime  ignore `import type` / `export type` (cycles that vanish when compiled)
// Prints each cycle (a strongly connected group of modules) and exits 1 when there is one.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const args = process.argv.slice(2);
const runtimeOnly = args.includes('--runtime');
const dirs = args.filter((a) => !a.startsWith('--'));
if (dirs.length === 0) dirs.push('src');

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(resolve(p));
  }
  return out;
}

// import/export … from '…' (multi-line clauses included) and bare `import '…'`
const FROM = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g;
const BARE = /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function target(fromFile, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** True when every name of an import/export clause is type-only (`type X` / `{ type A, type B }`). */
function typeOnly(kindType, clause) {
  if (kindType) return true;
  const braces = clause.match(/^\{([\s\S]*)\}$/);
  if (!braces) return false;
  const names = braces[1]
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

const files = dirs.flatMap((d) => walk(d, []));
const graph = new Map();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const edges = new Set();
  for (const m of text.matchAll(FROM)) {
    if (runtimeOnly && typeOnly(m[2], m[3].trim())) continue;
    const t = target(file, m[4]);
    if (t) edges.add(t);
  }
  for (const m of text.matchAll(BARE)) {
    const t = target(file, m[1]);
    if (t) edges.add(t);
  }
  graph.set(file, edges);
}

// Tarjan's strongly connected components
let index = 0;
const stack = [];
const info = new Map();
const cycles = [];
function visit(v) {
  info.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!info.has(w)) {
      visit(w);
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
    } else if (info.get(w).onStack) {
      info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
    }
  }
  if (info.get(v).low === info.get(v).index) {
    const group = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).onStack = false;
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || graph.get(v)?.has(v)) cycles.push(group);
  }
}
for (const v of graph.keys()) if (!info.has(v)) visit(v);

const rel = (f) => relative(process.cwd(), f);
if (cycles.length === 0) {
  console.log(
    `check-cycles: ${files.length} modules, no import cycle${runtimeOnly ? ' (runtime imports)' : ''}`,
  );
  process.exit(0);
}
for (const group of cycles) console.log(`cycle: ${group.map(rel).sort().join(' ↔ ')}`);
process.exit(1);
