// Node-only: fault injection for the crash tests. With WEBGPU_CONTRASTIVE_FAULT=<name> (or <name>#<n>,
// the n-th time) in the environment, the process kills itself with SIGKILL, as a power cut would: no
// cleanup, no flush, when it reaches the point of that name. Unset, each point costs a string compare.
const wanted = process.env.WEBGPU_CONTRASTIVE_FAULT?.split('#');
let hits = 0;

/** Dies here when the environment names this point (and this is its n-th hit). */
export function faultPoint(name: string): void {
  if (wanted?.[0] === name && ++hits === Number(wanted[1] ?? 1)) process.kill(process.pid, 'SIGKILL');
}
