// Engine lifecycle under AddressSanitizer (fuzz/binding_asan.sh): concurrent calls, dispose
// twice, calls after dispose and after a failed open, undisposed engines collected by GC,
// worker_threads terminated mid-call, and an engine still alive at process exit.
// Usage: SCT_DIFF_ADDON=<asan .node> node --expose-gc fuzz/binding_lifecycle.mjs <model>
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const addon = createRequire(import.meta.url)(process.env.SCT_DIFF_ADDON);
const model = process.argv[2] || (workerData && workerData.model);
const gray = (s) => ({ data: new Uint8Array(64).fill(s), width: 8, height: 8, stride: 8, format: 'gray' });
async function busyEngine() {
  const engine = new addon.NativeEngine(model, 'cpu', 1);
  await engine.open();
  await engine.setTemplate(0, gray(1), { x0: 0, y0: 0, side: 8, outputSize: 8 });
  await engine.setTemplate(1, gray(2), { x0: 0, y0: 0, side: 8, outputSize: 8 });
  await engine.encode([gray(3)], [{ x0: 0, y0: 0, side: 8, outputSize: 16 }], [0]);
  return engine;
}
if (!isMainThread) {
  busyEngine().then((engine) => {
    for (let i = 0; i < 100; i++) engine.decode([0], Int32Array.from([1, 2, 3, 4]), Int32Array.from([9]), BigInt(i));
    parentPort.postMessage('busy');
  });
} else {
  (async () => {
    const engine = await busyEngine();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => engine.decode([0], Int32Array.from([1, 2, 3, 4]), Int32Array.from([9]), BigInt(i % 2))));
    console.log('decoded', results.length, Array.from(results[0].tokens));
    const pending = engine.decode([0], Int32Array.from([1, 2, 3, 4]), Int32Array.from([9]), 1n);
    await Promise.all([engine.dispose(), engine.dispose()]);
    await pending;
    await engine.decode([0], Int32Array.from([1, 2, 3, 4]), Int32Array.from([9]), 1n).catch((e) => console.log('after dispose', e.code));
    const bad = new addon.NativeEngine(model + '.nope', 'cpu', 1);
    await bad.open().catch((e) => console.log('bad', e.code));
    await bad.decode([0], new Int32Array(4), new Int32Array(1), 1n).catch((e) => console.log('queued after failed open', e.code));
    await bad.dispose();
    for (let i = 0; i < 6; i++) await busyEngine();  // never disposed
    for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); }
    for (let round = 0; round < 4; round++) {
      const worker = new Worker(new URL(import.meta.url), { workerData: { model } });
      await new Promise((r) => worker.once('message', r));
      await worker.terminate();
    }
    await busyEngine();  // alive at exit
    console.log('done');
  })();
}
