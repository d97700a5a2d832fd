/**
 * Which compute backends can run on this host, and why not when they cannot. Used by
 * `createEngine` to pick a backend and by the CLI to report the setup.
 */
import { existsSync } from 'node:fs';
import { SctDiffError } from '../errors.js';
import { loadNativeAddon } from './loader.js';

/** A backend and whether it can run here. */
export interface BackendStatus {
  /** Backend name as `device` takes it. */
  name: 'cpu' | 'cuda';
  /** True when an engine of this backend can be created. */
  available: boolean;
  /** Why it is (un)available, phrased for a log line. */
  reason: string;
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

/** The CUDA backend's status. It is not part of this version's build yet. */
export function cudaBackendStatus(): BackendStatus {
  const driver = nvidiaDriverPresent() ? 'an NVIDIA driver is present' : 'no NVIDIA driver was found';
  return {
    name: 'cuda',
    available: false,
    reason: `the CUDA backend is not built into this version of sct-diff (${driver})`,
  };
}

/**
 * Every backend with its availability, in the order `device: 'auto'` tries them (CUDA first).
 */
export function availableBackends(): BackendStatus[] {
  return [cudaBackendStatus(), cpuBackendStatus()];
}
