// Optimizer family: one SGD step over one parameter tensor, in place (PyTorch's torch.optim.SGD).
//
// Math, per element i (lr, momentum mu, dampening d, weight decay wd from the uniforms):
//   g     = grad[i] + wd * param[i]                      (L2 weight decay, coupled as in PyTorch)
//   buf   = mu * buf[i] + (1 - d) * g                    (buffers start at zero, so step 1 gives buf = (1 - d) g;
//                                                         PyTorch starts from buf = g: equal for d = 0, its default)
//   step  = NESTEROV ? g + mu * buf : buf                (mu = 0: plain SGD, buf unused but kept at g)
//   param = param - lr * step
// The learning rate travels in the uniforms, so a schedule never recompiles anything.
// Finiteness, for free: an element whose gradient or new value is NaN or infinite sets status[slot]
// (one u32 flag per parameter tensor of the optimizer), so a run can stop naming the parameter where a
// non-finite value first appeared without reading any tensor back.
//
// Bindings (group 0): 0 uniform Params {n, lr, momentum, dampening, weight_decay, slot};
//   1 param [n] (read_write); 2 grad [n]; 3 buf [n] momentum buffer (read_write); 4 status [slots] u32 flags.
// Dispatch: one thread per element, WG per workgroup, folded into y past 65535 workgroups.

struct Params {
  n: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
  slot: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;

override WG: u32 = 256;
override NESTEROV: bool = false;

@compute @workgroup_size(WG)
fn sgd_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) {
    return;
  }
  let w = param[i];
  let g = grad[i] + p.weight_decay * w;
  let b = p.momentum * buf[i] + (1.0 - p.dampening) * g;
  buf[i] = b;
  let step = select(b, g + p.momentum * b, NESTEROV);
  let updated = w - p.lr * step;
  param[i] = updated;
  // Exponent bits all ones: infinity or NaN (tested on the bits, which no compiler folds away).
  if ((bitcast<u32>(grad[i]) & 0x7f800000u) == 0x7f800000u || (bitcast<u32>(updated) & 0x7f800000u) == 0x7f800000u) {
    atomicOr(&status[p.slot], 1u);
  }
}
