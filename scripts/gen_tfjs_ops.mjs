// Regenerates backends/tfjs_graph/data/tfjs_ops.json: the op names the tfjs 4.22 graph-model
// mapper knows, by category, with the inputs and attributes it reads (from the installed npm
// package @tensorflow/tfjs-converter). Run: node scripts/gen_tfjs_ops.mjs
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'backends/tfjs_runtime/package.json'));
const dir = path.dirname(require.resolve('@tensorflow/tfjs-converter/dist/operations/op_list/arithmetic.js'));
// ragged and tfdf are in the Python op list but not imported by the 4.22 JS OperationMapper.
const SKIP = new Set(['ragged', 'tfdf']);
const out = { source: '@tensorflow/tfjs-converter ' + require('@tensorflow/tfjs-converter/package.json').version, ops: {} };
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
  const category = file.replace(/\.js$/, '');
  if (SKIP.has(category)) continue;
  const mod = await import(path.join(dir, file));
  for (const entry of mod.json) {
    out.ops[entry.tfOpName] = {
      category,
      inputs: (entry.inputs || []).map((i) => i.name),
      attrs: (entry.attrs || []).map((a) => a.tfName),
    };
  }
}
out.ops = Object.fromEntries(Object.entries(out.ops).sort(([a], [b]) => (a < b ? -1 : 1)));
fs.writeFileSync(path.join(root, 'backends/tfjs_graph/data/tfjs_ops.json'), JSON.stringify(out, null, 1) + '\n');
console.log(`${Object.keys(out.ops).length} ops`);
