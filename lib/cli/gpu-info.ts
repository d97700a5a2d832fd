/**
 * What NVIDIA's driver reports about the GPUs (via `nvidia-smi`), for `sct-diff inspect`. This
 * works without the CUDA backend, so `inspect` can say "there is a GPU, but this build cannot
 * use it" instead of only "no CUDA backend".
 */
import { execFile } from 'node:child_process';

/** One GPU as nvidia-smi describes it. */
export interface GpuDescription {
  /** Product name, e.g. "NVIDIA H100 80GB HBM3". */
  name: string;
  /** Compute capability, e.g. "9.0". */
  computeCapability: string;
  /** Driver version, e.g. "550.54.15". */
  driverVersion: string;
}

/**
 * Parse `nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader` output
 * (one "name, cap, driver" line per GPU); malformed lines are skipped.
 */
export function parseNvidiaSmiGpus(text: string): GpuDescription[] {
  const gpus: GpuDescription[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length !== 3 || fields.some((f) => f === '')) continue;
    const [name, computeCapability, driverVersion] = fields as [string, string, string];
    gpus.push({ name, computeCapability, driverVersion });
  }
  return gpus;
}

/**
 * The GPUs nvidia-smi lists, or an empty list when it is not installed, fails, or takes more
 * than 5 seconds. Program: `$SCT_DIFF_NVIDIA_SMI` or `nvidia-smi` on PATH.
 */
export function queryGpus(): Promise<GpuDescription[]> {
  const program = process.env.SCT_DIFF_NVIDIA_SMI || 'nvidia-smi';
  return new Promise((resolve) => {
    execFile(program, ['--query-gpu=name,compute_cap,driver_version', '--format=csv,noheader'], { timeout: 5000 }, (error, stdout) => {
      resolve(error ? [] : parseNvidiaSmiGpus(stdout));
    });
  });
}
