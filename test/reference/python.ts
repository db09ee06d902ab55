// A Python with PyTorch, as an independent reader and reference for the file-format and schedule tests.
// Debian's python3-torch is installed for /usr/bin/python3, which a pyenv or venv python3 on PATH may
// hide, so that one is tried first; $PYTHON overrides both.
import { spawnSync } from 'node:child_process';

function findTorchPython(): { python: string } | { missing: string } {
  const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python };
  }
  return { missing: `no Python with PyTorch (tried ${candidates.join(', ')}; install Debian's python3-torch or set PYTHON)` };
}

/** The Python that imports torch, or why there is none (for a test's skip reason). */
export const torchPython = findTorchPython();

/** Runs `script` with the torch Python (argv after it: `args`) and returns its stdout; throws with stderr on failure. */
export function runPython(script: string, args: string[] = []): string {
  if (!('python' in torchPython)) throw new Error(torchPython.missing);
  const r = spawnSync(torchPython.python, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
