// Half family: f16 copies of f32 tensors, the operands of the mixed-precision matmul and conv2d kernels
// (f16 storage, f32 accumulation: EngineOptions.f16Storage), on adapters with the `shader-f16` feature.
//
// Math: out[i] = f16(x[i]) for i < count, rounded to the nearest f16.
//
// Bindings (group 0): 0 uniform Params; 1 out [count] f16 (read_write); 2 x [count] f32.
//
// Dispatch: one thread per element, workgroups of 64; grids wider than 65535 workgroups fold into y,
// so the element is i = gid.x + gid.y * num_workgroups.x * 64.

struct Params {
  count: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

// #if shader-f16
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f16>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

@compute @workgroup_size(64)
fn to_f16(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i < p.count) {
    out[i] = f16(x[i]);
  }
}
// #endif
