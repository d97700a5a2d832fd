/**
 * Which compute backends can run on this host, and why not when they cannot. Used by
 * `createEngine` to pick a backend and by the CLI to report the setup.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SctDiffError } from '../errors.js';
import { loadedAddonFile, loadNativeAddon, PACKAGE_ROOT, type NativeCudaDevice, type NativeCudaProbe } from './loader.js';

/** A backend and whether it can run here. */
export interface BackendStatus {
  /** Backend name as `device` takes it. */
  name: 'cpu' | 'cuda';
  /** True when an engine of this backend can be created. */
  available: boolean;
  /** Why it is (un)available, phrased for a log line. */
  reason: string;
  /** CUDA only: the GPU the probe found, when available. */
  device?: NativeCudaDevice;
  /** CUDA only: the libsctdiff_cuda.so that was loaded, when one was. */
  library?: string;
}

/** Whether an NVIDIA driver is loaded on this host (Linux: its /proc entry exists). */
export function nvidiaDriverPresent(): boolean {
  return existsSync('/proc/driver/nvidia/version');
}

/** The CPU backend's status: the addon must load and contain the CPU engine. */
export function cpuBackendStatus(): BackendStatus {
  try {
    const addon = loadNativeAddon();
    if (!addon.build.cpu) {
      return { name: 'cpu', available: false, reason: 'the native addon was built without the CPU backend' };
    }
    return { name: 'cpu', available: true, reason: 'the CPU backend is built into the native addon' };
  } catch (error) {
    const message = error instanceof SctDiffError ? error.message : String(error);
    return { name: 'cpu', available: false, reason: message };
  }
}

/**
 * Folders searched for `libsctdiff_cuda.so` after `$SCTDIFF_CUDA_LIBRARY` (which, when set,
 * is the only file tried): the folder of the loaded addon (where scripts/prebuild.mjs puts
 * the library, e.g. prebuilds/linux-x64/), then `build/cuda/` of a source checkout.
 * @throws BackendUnavailableError when the addon cannot be loaded.
 */
export function cudaLibrarySearchDirectories(): string[] {
  return [path.dirname(loadedAddonFile()), path.join(PACKAGE_ROOT, 'build', 'cuda')];
}

/**
 * Load the CUDA backend library and ask it for a device: the real reason when it cannot run
 * (library not found, not a shared object, ABI mismatch, no driver or device, no cuBLASLt).
 * Never throws: an addon that does not load is reported as the reason.
 */
export function probeCudaBackend(): NativeCudaProbe {
  try {
    return loadNativeAddon().probeCuda(cudaLibrarySearchDirectories());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { available: false, reason: `the native addon could not be loaded (${message})`, searched: [] };
  }
}

/** The CUDA backend's status, from {@link probeCudaBackend}. */
export function cudaBackendStatus(): BackendStatus {
  const probe = probeCudaBackend();
  const status: BackendStatus = { name: 'cuda', available: probe.available, reason: probe.reason };
  if (probe.device !== undefined) status.device = probe.device;
  if (probe.library !== undefined) status.library = probe.library;
  return status;
}

/**
 * Every backend with its availability, in the order `device: 'auto'` tries them (CUDA first).
 */
export function availableBackends(): BackendStatus[] {
  return [cudaBackendStatus(), cpuBackendStatus()];
}
