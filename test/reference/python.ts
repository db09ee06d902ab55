// A Python with PyTorch (or NumPy), as an independent reader, writer and reference for the file-format and
// schedule tests.
// Debian's python3-torch is installed for /usr/bin/python3, which a pyenv or venv python3 on PATH may
// hide, so that one is tried first; $PYTHON overrides both.
import { spawnSync } from 'node:child_process';

/** The first Python (of $PYTHON, /usr/bin/python3, python3) that imports `module`, or why there is none. */
function findPython(module: string, install: string): { python: string } | { missing: string } {
  const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', `import ${module}`], { encoding: 'utf8' });
    if (r.status === 0) return { python };
  }
  return { missing: `no Python with ${module} (tried ${candidates.join(', ')}; install Debian's ${install} or set PYTHON)` };
}

/** The Python that imports torch, or why there is none (for a test's skip reason). */
export const torchPython = findPython('torch', 'python3-torch');

/** The Python that imports numpy (an independent writer of .npy/.npz files), or why there is none. */
export const numpyPython = findPython('numpy', 'python3-numpy');

/**
 * Runs `script` with the torch Python, or the one given as `py` (argv after it: `args`), and returns its
 * stdout; throws with stderr on failure.
 */
export function runPython(script: string, args: string[] = [], py = torchPython): string {
  if (!('python' in py)) throw new Error(py.missing);
  const r = spawnSync(py.python, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Python source defining read_safetensors(path) -> (metadata, {name: torch tensor}): an independent
 * reader of the format for the interoperability tests. Debian's torch 1.13 has neither the safetensors
 * package nor uint32, so the header is parsed with json/struct, the data viewed with torch.frombuffer,
 * and U32 read with struct into int64.
 */
export const READ_SAFETENSORS_PY = String.raw`
import json, struct, torch

def read_safetensors(path):
    raw = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    assert n % 8 == 0 and len(raw) >= 8 + n
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    data = raw[8 + n:]
    types = {'F32': torch.float32, 'I32': torch.int32, 'F64': torch.float64, 'I64': torch.int64, 'F16': torch.float16}
    out = {}
    for name, info in header.items():
        b, e = info['data_offsets']
        if info['dtype'] == 'U32':
            t = torch.tensor(struct.unpack('<%dI' % ((e - b) // 4), data[b:e]), dtype=torch.int64)
        elif e > b:
            t = torch.frombuffer(bytearray(data[b:e]), dtype=types[info['dtype']])
        else:
            t = torch.empty(0, dtype=types[info['dtype']])
        out[name] = (info['dtype'], t.reshape(info['shape']))
    return meta, out
`;
