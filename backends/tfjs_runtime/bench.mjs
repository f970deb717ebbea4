// Times a converted graph model in TensorFlow.js against the same ONNX file in onnxruntime-web.
//
// Usage: node bench.mjs JOB.json  (prints a {"meta"} line, then one line of JSON per model and backend)
//   JOB = {"reps": 20, "warmup": 3, "backends": ["wasm", "cpu"], "top": 5, "cpuLimitMs": 2000,
//          "models": [{"name", "graph": "/abs/model.json", "onnx": "/abs/model.onnx" | null,
//                      "inputs": [{"name", "dtype" (numpy name), "shape", "b64"}]}]}
// Both runtimes run in this one process on one thread (tfjs wasm setThreadsCount(1), ORT-web
// numThreads=1; both use their SIMD builds), and their runs alternate rep by rep so that a
// machine that slows down mid-run slows both. Times are wall clock around execute + reading every
// output back (what a page waits for); the medians are reported with the spread.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const log = console.log;
console.log = (...args) => process.stderr.write(args.join(' ') + '\n');
console.warn = console.log;
console.info = console.log;

const require = createRequire(import.meta.url);
const tf = await import('@tensorflow/tfjs');
const wasm = await import('@tensorflow/tfjs-backend-wasm');
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
wasm.setWasmPaths(wasmDir + path.sep);
wasm.setThreadsCount(1);
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const reps = job.reps ?? 20;
const warmup = job.warmup ?? 3;
const top = job.top ?? 5;
const cpuLimitMs = job.cpuLimitMs ?? 2000;

function decode(spec) {
  const raw = Buffer.from(spec.b64, 'base64');
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw);
  return bytes.buffer;
}

// tfjs has no int64: integer feeds go in as int32 (the converter's signature says so).
function tfjsFeeds(inputs) {
  const out = {};
  for (const s of inputs) {
    const buf = decode(s);
    let data;
    if (s.dtype === 'int64') data = Int32Array.from(new BigInt64Array(buf), (v) => Number(v));
    else if (s.dtype === 'int32') data = new Int32Array(buf);
    else if (s.dtype === 'bool') data = new Uint8Array(buf);
    else data = new Float32Array(buf);
    const dtype = s.dtype === 'float32' ? 'float32' : s.dtype === 'bool' ? 'bool' : 'int32';
    out[s.name] = tf.tensor(data, s.shape, dtype);
  }
  return out;
}

const ORT_TYPES = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array };

function ortFeeds(inputs) {
  const out = {};
  for (const s of inputs) out[s.name] = new ort.Tensor(s.dtype, new ORT_TYPES[s.dtype](decode(s)), s.shape);
  return out;
}

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

async function tfjsRunner(model, feeds) {
  let useAsync = false;
  const run = async () => {
    let r;
    if (!useAsync) {
      try {
        r = model.execute(feeds);
      } catch (e) {
        if (!/executeAsync|dynamic op|control flow/i.test(String(e.message))) throw e;
        useAsync = true;
      }
    }
    if (useAsync) r = await model.executeAsync(feeds);
    const list = Array.isArray(r) ? r : [r];
    for (const t of list) await t.data();
    tf.dispose(list);
  };
  return run;
}

// The largest |tfjs - ORT-web| / max(1, max |ORT-web|) over the outputs (matched by name, else by
// position): the two runtimes computed the same thing on these very feeds (int64 fed as int32 to tfjs).
async function agreement(model, feeds, session, ortIn) {
  const names = model.outputNodes;
  const r = model.execute(feeds, names);
  const list = Array.isArray(r) ? r : [r];
  const got = await session.run(ortIn);
  let worst = 0;
  for (let i = 0; i < session.outputNames.length; i++) {
    const on = session.outputNames[i];
    const k = names.indexOf(on) >= 0 ? names.indexOf(on) : i;
    const t = Array.from(await list[k].data(), Number);
    const o = Array.from(got[on].data, Number);
    if (t.length !== o.length) { worst = Infinity; break; }
    let scale = 1;
    let diff = 0;
    for (let j = 0; j < o.length; j++) {
      if (Number.isFinite(o[j])) scale = Math.max(scale, Math.abs(o[j]));
      if (Number.isNaN(t[j]) && Number.isNaN(o[j])) continue;
      if (t[j] === o[j]) continue; // the same infinity
      const d = Math.abs(t[j] - o[j]);
      diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    }
    worst = Math.max(worst, diff / scale);
  }
  tf.dispose(list);
  return worst;
}

async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summary(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return { median: median(s), min: s[0], max: s[s.length - 1], n: s.length };
}

// The tfjs kernels of one run, summed by kernel name.
async function kernelTimes(run) {
  const info = await tf.profile(run);
  const byName = new Map();
  // Ops built from other ops appear as their own '<op>__op' scope too: count kernels only.
  const kernels = info.kernels.filter((k) => !k.name.endsWith('__op'));
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byName.get(k.name) || { op: k.name, ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    byName.set(k.name, e);
  }
  return { count: kernels.length, byName };
}

// The kernels by time, largest first: per kernel name the median over `runs` profiled runs (one
// profiled run on a shared machine is too noisy to rank by).
async function topKernels(run, runs = 3) {
  const profiles = [];
  for (let i = 0; i < runs; i++) profiles.push(await kernelTimes(run));
  const all = [...profiles[0].byName.values()].map((e) => ({
    op: e.op, calls: e.calls, ms: median(profiles.map((p) => p.byName.get(e.op)?.ms ?? 0)),
  })).sort((a, b) => b.ms - a.ms);
  // kernelMs against the wall-clock median shows the time spent outside the kernels.
  const kernelMs = all.reduce((a, k) => a + k.ms, 0);
  return { kernels: profiles[0].count, kernelMs, top: all.slice(0, top) };
}

async function benchOne(spec, backend) {
  if (tf.getBackend() !== backend) {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} unavailable`);
  }
  await tf.ready();
  const model = await tf.loadGraphModel(fileHandler(spec.graph));
  const feeds = tfjsFeeds(spec.inputs);
  const runTfjs = await tfjsRunner(model, feeds);
  let session = null;
  let runOrt = null;
  // ORT-web runs on its wasm backend only: pair it with the tfjs wasm figures, not cpu.
  // An ORT-web failure still leaves the tfjs figures (the row carries ortError).
  let ortError = null;
  let ortIn = null;
  if (spec.onnx && backend === 'wasm') {
    try {
      session = await ort.InferenceSession.create(fs.readFileSync(spec.onnx), {
        executionProviders: ['wasm'], graphOptimizationLevel: 'all',
      });
      ortIn = ortFeeds(spec.inputs);
      runOrt = async () => { await session.run(ortIn); };
      await runOrt();
    } catch (e) {
      ortError = String(e && e.message ? e.message : e).slice(0, 300);
      runOrt = null;
    }
  }
  const first = await time(runTfjs);
  if (backend === 'cpu' && first > cpuLimitMs) {
    tf.dispose(Object.values(feeds));
    model.dispose();
    return { name: spec.name, backend, skipped: `one cpu run took ${first.toFixed(0)} ms (> ${cpuLimitMs} ms)` };
  }
  if (runOrt) await runOrt();
  for (let i = 1; i < warmup; i++) {
    await runTfjs();
    if (runOrt) await runOrt();
  }
  const tfjsMs = [];
  const ortMs = [];
  for (let i = 0; i < reps; i++) {
    tfjsMs.push(await time(runTfjs));
    if (runOrt) ortMs.push(await time(runOrt));
  }
  const prof = top > 0 ? await topKernels(runTfjs) : null;
  const maxRel = runOrt ? await agreement(model, feeds, session, ortIn) : null;
  tf.dispose(Object.values(feeds));
  model.dispose();
  if (session) await session.release();
  return { name: spec.name, backend, tfjs: summary(tfjsMs), ort: summary(ortMs), ortError, maxRel, profile: prof,
    threads: backend === 'wasm' ? wasm.getThreadsCount() : 1 };
}

log(JSON.stringify({ meta: { node: process.version, tfjs: tf.version.tfjs, ortWeb: ort.env.versions?.web ?? '?',
  wasmSimd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT').catch(() => null) } }));

for (const spec of job.models) {
  for (const backend of job.backends ?? ['wasm']) {
    try {
      log(JSON.stringify(await benchOne(spec, backend)));
    } catch (e) {
      log(JSON.stringify({ name: spec.name, backend, error: String(e && e.message ? e.message : e) }));
    }
  }
}
