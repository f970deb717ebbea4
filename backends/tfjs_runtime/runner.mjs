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
//   {"id": 5, "op": "profile", "model": ..., "backend": ..., "inputs": [...], "runs": 10, "warmup": 2}
//     -> {"profile": {"latency_ms": [...], "nodes": [{"name", "op", "ms", "kernels": {"K": [ms, calls]}}],
//         "unattributed": {...}, "profiled_ms": [...], "tf_profile_kernel_ms", "mode", "threads", ...}}
//        node and kernel times: medians over the profiled runs of the kernel wall times
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
    if (req.op === 'profile') return { profile: await profileGraph(model, req) };
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

// One graph run that reads every output, as an application would; returns how it ran.
function graphRunner(model, named) {
  const feeds = new Set(Object.values(named));
  const state = { mode: 'execute' };
  state.run = async () => {
    let r;
    if (state.mode === 'execute') {
      try {
        r = model.execute(named);
      } catch (e) {
        if (!/executeAsync|dynamic op|control flow/i.test(String(e.message))) throw e;
        state.mode = 'executeAsync';
      }
    }
    if (state.mode === 'executeAsync') r = await model.executeAsync(named);
    const list = (Array.isArray(r) ? r : [r]).filter((t) => !feeds.has(t));
    for (const t of list) await t.data();
    tf.dispose(list);
  };
  return state;
}

// Kernel wall times by graph node. wasm and cpu kernels are synchronous, so the time around
// engine.runKernel is the kernel's; the executor's per-node disposal check (called right after each
// node ran) closes a node: the kernels since the previous check are that node's. Kernels called from
// inside a kernel count for the outer one. `runs` holds one Map (node -> [op, [[kernel, ms]...]]) per run.
function kernelRecorder(model) {
  const eng = tf.engine();
  const exec = model.executor;
  const rec = { runs: [], current: new Map(), pending: [], depth: 0 };
  const closeNode = (node) => {
    const e = rec.current.get(node.name) || [node.op, []];
    e[1].push(...rec.pending);
    rec.current.set(node.name, e);
    rec.pending = [];
  };
  const patches = [
    [eng, 'runKernel', (orig) => function (name, inputs, attrs) {
      if (rec.depth > 0) return orig.call(this, name, inputs, attrs);
      rec.depth += 1;
      const t0 = performance.now();
      try {
        return orig.call(this, name, inputs, attrs);
      } finally {
        rec.pending.push([name, performance.now() - t0]);
        rec.depth -= 1;
      }
    }],
    [exec, 'checkTensorForDisposalWithNodeLiveUntilInfo', (orig) => function (node, ...rest) {
      closeNode(node);
      return orig.call(this, node, ...rest);
    }],
    [exec, 'checkTensorForDisposal', (orig) => function (nodeName, node, ...rest) {
      closeNode(node);
      return orig.call(this, nodeName, node, ...rest);
    }],
  ];
  for (const [obj, key] of patches) {  // tfjs-converter 4.22's names: a newer tfjs must be checked anew
    if (!obj || typeof obj[key] !== 'function') throw new Error(`profile: this TensorFlow.js has no ${key} to time`);
  }
  const saved = patches.map(([obj, key, wrap]) => {
    const own = Object.prototype.hasOwnProperty.call(obj, key);
    const prev = obj[key];
    obj[key] = wrap(prev);
    return () => { if (own) obj[key] = prev; else delete obj[key]; };
  });
  rec.restore = () => saved.forEach((undo) => undo());
  // Kernels after the last node (reading the outputs) go to the '' entry.
  rec.endRun = () => {
    if (rec.pending.length) rec.current.set('', ['', rec.pending]);
    rec.runs.push(rec.current);
    rec.current = new Map();
    rec.pending = [];
  };
  return rec;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : 0;
}

// Per node in execution order: the median over runs of each of its kernels' time (a median shrugs
// off the runs a busy machine or a garbage collection slowed), and their calls per run.
function perNode(runs) {
  const order = new Map();
  for (const run of runs) for (const [name, [op]] of run) if (!order.has(name)) order.set(name, op);
  return [...order].map(([name, op]) => {
    const kernels = {};
    const names = new Set(runs.flatMap((r) => (r.get(name) || [op, []])[1].map(([k]) => k)));
    for (const k of names) {
      const per = runs.map((r) => (r.get(name) || [op, []])[1].filter(([n]) => n === k).map(([, ms]) => ms));
      kernels[k] = [median(per.map((xs) => xs.reduce((a, b) => a + b, 0))),
        per.reduce((a, xs) => a + xs.length, 0) / runs.length];
    }
    // The node's time is the sum of its kernels' medians, so that op, node and total times add up.
    const ms = Object.values(kernels).reduce((a, [t]) => a + t, 0);
    return { name, op, ms, kernels };
  });
}

async function profileGraph(model, req) {
  const feeds = (req.inputs || []).map((s) => [s.name, toTensor(s)]);
  const named = Object.fromEntries(feeds);
  const runs = Math.max(1, req.runs || 10);
  const state = graphRunner(model, named);
  try {
    for (let i = 0; i < Math.max(1, req.warmup ?? 2); i++) await state.run();
    const latency = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await state.run();
      latency.push(performance.now() - t0);
    }
    const rec = kernelRecorder(model);
    const profiled = [];
    try {
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await state.run();
        profiled.push(performance.now() - t0);
        rec.endRun();
      }
    } finally {
      rec.restore();
    }
    // tf.profile's own kernel times, for comparison ('<op>__op' entries are op scopes, not kernels).
    const info = await tf.profile(state.run);
    const tfKernels = info.kernels.filter((k) => !k.name.endsWith('__op'));
    const all = perNode(rec.runs);
    return {
      latency_ms: latency, profiled_ms: profiled, nodes: all.filter((n) => n.name !== ''),
      unattributed: (all.find((n) => n.name === '') || { kernels: {} }).kernels, mode: state.mode,
      tf_profile_kernel_ms: tfKernels.reduce((a, k) => a + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0), 0),
      tf_profile_kernels: tfKernels.length, backend: tf.getBackend(),
      threads: tf.getBackend() === 'wasm' ? wasm.getThreadsCount() : 1, tfjs: tf.version.tfjs,
    };
  } finally {
    tf.dispose(feeds.map(([, t]) => t));
  }
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
