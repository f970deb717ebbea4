// Runs TensorFlow.js graph and layers models from the file system, one JSON request per line.
//
// Request (one line of JSON on stdin):
//   {"id": 1, "op": "run", "model": "/abs/model.json", "kind": "graph" | "layers",
//    "backend": "cpu" | "wasm", "inputs": [{"name", "dtype", "shape", "b64"}],
//    "outputs": ["name", ...] | null, "mode": "auto" | "execute" | "executeAsync"}
//   {"id": 2, "op": "weights", "model": ..., "kind": ..., "backend": ...}
//   {"id": 3, "op": "ping"}
//   {"id": 4, "op": "kernels", "model": ..., "backend": ..., "inputs": [...]}
//     -> {"nodes": {"node name": ["Kernel", ...]}}: the kernels each graph node ran (profiled)
// Response (one line of JSON on stdout):
//   {"id": 1, "ok": true, "outputs": [{"name", "dtype", "shape", "b64"}], "info": {...}}
//   {"id": 1, "ok": false, "error": "message"}
//
// Models are loaded the way tf.io.http loads them: model.json is parsed, every shard of every
// weight group is concatenated in manifest order and decoded by tfjs-core itself
// (tf.io.getModelArtifactsForJSON), so quantized and multi-shard weights take the real path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { createRequire } from 'node:module';

// tfjs prints a "Hi there" banner about tfjs-node on first use; keep stdout for the protocol.
const log = console.log;
console.log = (...args) => process.stderr.write(args.join(' ') + '\n');
console.warn = console.log;
console.info = console.log;

const require = createRequire(import.meta.url);
const tf = await import('@tensorflow/tfjs');
const wasm = await import('@tensorflow/tfjs-backend-wasm');
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
wasm.setWasmPaths(wasmDir + path.sep);

const TYPED = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };

function fileHandler(modelPath) {
  return {
    load: async () => {
      const modelJSON = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
      const dir = path.dirname(modelPath);
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs = [];
        const buffers = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = fs.readFileSync(path.join(dir, p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
          }
        }
        return [specs, buffers];
      });
    },
  };
}

function toTensor(spec) {
  const raw = Buffer.from(spec.b64, 'base64');
  const Ctor = TYPED[spec.dtype];
  if (!Ctor) throw new Error(`unsupported input dtype ${spec.dtype}`);
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw);
  const data = new Ctor(bytes.buffer, 0, raw.byteLength / Ctor.BYTES_PER_ELEMENT);
  return tf.tensor(data, spec.shape, spec.dtype);
}

async function fromTensor(name, t) {
  const data = await t.data();
  let bytes;
  if (t.dtype === 'bool') bytes = Buffer.from(Uint8Array.from(data));
  else {
    // A cast to a wider dtype may keep the source array (e.g. bool -> float32 keeps a Uint8Array).
    const Ctor = t.dtype === 'int32' ? Int32Array : Float32Array;
    const typed = data instanceof Ctor ? data : Ctor.from(data);
    bytes = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  return { name, dtype: t.dtype, shape: t.shape, b64: bytes.toString('base64') };
}

async function useBackend(name) {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs backend ${name} could not be initialized`);
  }
  await tf.ready();
}

async function loadModel(req) {
  const handler = fileHandler(req.model);
  if (req.kind === 'layers') return tf.loadLayersModel(handler);
  return tf.loadGraphModel(handler);
}

async function runGraph(model, req, feeds) {
  const named = {};
  for (const [name, t] of feeds) named[name] = t;
  const outNames = req.outputs && req.outputs.length ? req.outputs : model.outputNodes;
  let mode = req.mode || 'auto';
  let result;
  if (mode === 'execute' || mode === 'auto') {
    try {
      result = model.execute(named, outNames);
      mode = 'execute';
    } catch (e) {
      if (mode === 'execute' || !/executeAsync|dynamic op|control flow/i.test(String(e.message))) throw e;
      mode = 'executeAsync';
    }
  }
  if (mode === 'executeAsync') result = await model.executeAsync(named, outNames);
  const list = Array.isArray(result) ? result : [result];
  return { names: outNames, tensors: list, mode };
}

async function runLayers(model, req, feeds) {
  const inputs = feeds.map(([, t]) => t);
  const result = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  const list = Array.isArray(result) ? result : [result];
  const names = model.outputs.map((o) => o.name);
  return { names, tensors: list, mode: 'predict' };
}

async function handle(req) {
  if (req.op === 'ping') return { tfjs: tf.version.tfjs, backends: Object.keys(tf.engine().registryFactory) };
  await useBackend(req.backend || 'cpu');
  const model = await loadModel(req);
  try {
    if (req.op === 'weights') return { weights: await weightsOf(model, req.kind) };
    if (req.op === 'kernels') return { nodes: await kernelsPerNode(model, req) };
    if (req.op !== 'run') throw new Error(`unknown op ${req.op}`);
    const feeds = (req.inputs || []).map((s) => [s.name, toTensor(s)]);
    const start = performance.now();
    const run = req.kind === 'layers' ? await runLayers(model, req, feeds) : await runGraph(model, req, feeds);
    const outputs = [];
    for (let i = 0; i < run.tensors.length; i++) outputs.push(await fromTensor(run.names[i], run.tensors[i]));
    const ms = performance.now() - start;
    tf.dispose(run.tensors);
    tf.dispose(feeds.map(([, t]) => t));
    return { outputs, info: { mode: run.mode, ms, backend: tf.getBackend() } };
  } finally {
    model.dispose();
  }
}

// Kernels run to compute `outputs` (with repeats), as tf.profile records them. Results that are
// feeds themselves are not disposed.
async function kernelRuns(model, named, outputs) {
  const feeds = new Set(Object.values(named));
  const info = await tf.profile(async () => {
    let r;
    try {
      r = model.execute(named, outputs);
    } catch (e) {
      if (!/executeAsync/.test(String(e.message))) throw e;
      r = await model.executeAsync(named, outputs);
    }
    tf.dispose((Array.isArray(r) ? r : [r]).filter((t) => !feeds.has(t)));
  });
  return info.kernels.map((k) => k.name);
}

// The kernels of node N are those of computing N minus those of computing N's inputs.
async function kernelsPerNode(model, req) {
  const named = {};
  const feeds = (req.inputs || []).map((s) => [s.name, toTensor(s)]);
  for (const [name, t] of feeds) named[name] = t;
  const nodes = JSON.parse(fs.readFileSync(req.model, 'utf8')).modelTopology.node;
  const opOf = Object.fromEntries(nodes.map((n) => [n.name, n.op]));
  const computed = (name) => opOf[name] !== 'Const' && opOf[name] !== 'Placeholder';
  const out = {};
  for (const node of nodes) {
    if (!computed(node.name)) continue;
    // Weights and feeds cost no kernel; asking for them as outputs would hand out (and dispose) them.
    const inputs = (node.input || []).filter((i) => !i.startsWith('^')).map((i) => i.replace(/:\d+$/, ''))
      .filter(computed);
    const all = await kernelRuns(model, named, [node.name]);
    const before = inputs.length ? await kernelRuns(model, named, [...new Set(inputs)]) : [];
    for (const k of before) {
      const i = all.indexOf(k);
      if (i >= 0) all.splice(i, 1);
    }
    out[node.name] = [...new Set(all)].sort();
  }
  tf.dispose(feeds.map(([, t]) => t));
  return out;
}

async function weightsOf(model, kind) {
  const out = [];
  if (kind === 'layers') {
    for (const w of model.weights) out.push(await fromTensor(w.originalName, w.read()));
  } else {
    for (const [name, tensors] of Object.entries(model.weights)) out.push(await fromTensor(name, tensors[0]));
  }
  return out;
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let req = { id: null };
  try {
    req = JSON.parse(line);
    const body = await handle(req);
    log(JSON.stringify({ id: req.id, ok: true, ...body }));
  } catch (e) {
    log(JSON.stringify({ id: req.id, ok: false, error: String(e && e.message ? e.message : e) }));
  }
}
