// Augment family: one training batch built from a dataset that lives on the device, in one dispatch:
// gather by index, pad-and-random-crop, horizontal flip and per-channel normalisation (the CIFAR
// standard augmentation: RandomCrop(size, padding=PAD) + RandomHorizontalFlip + Normalize).
//
// Math: image b of the batch has a plan (src, oy, ox, flip): dataset image `src`, crop origin (oy, ox)
// in [0, 2 PAD] inside the zero-padded image, and a flip bit. Output pixel (c, y, x) reads
//   xf = flip ? W - 1 - x : x,  sy = y + oy - PAD,  sx = xf + ox - PAD
//   out[b, c, y, x] = (v - mean[c]) * inv_std[c],  v = data[src, c, sy, sx] if (sy, sx) is inside, else 0
// (padding is black before normalisation, as torchvision pads the image before ToTensor/Normalize).
// Evaluation batches use PAD = 0 and plans (src, 0, 0, 0): a plain gather + normalise.
//
// Bindings (group 0): 0 uniform Params {batch, channels, height, width, pad, images, mean, inv_std};
//   1 out [batch, C, H, W] (read_write); 2 data [images, C, H, W] f32 in [0, 1];
//   3 plan [batch] vec4<i32> (src, oy, ox, flip).
// Dispatch: one thread per output element, WG per workgroup, folded into y past 65535 workgroups.

struct Params {
  batch: u32,
  channels: u32,
  height: u32,
  width: u32,
  pad: u32,
  images: u32,
  _pad0: u32,
  _pad1: u32,
  mean: vec4<f32>,
  inv_std: vec4<f32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> data: array<f32>;
@group(0) @binding(3) var<storage, read> plan: array<vec4<i32>>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn crop_flip_normalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let plane = p.height * p.width;
  let image = p.channels * plane;
  if (i >= p.batch * image) {
    return;
  }
  let b = i / image;
  let c = (i % image) / plane;
  let y = i32((i % plane) / p.width);
  let x = i32(i % p.width);
  let job = plan[b];
  let xf = select(x, i32(p.width) - 1 - x, job.w != 0);
  let sy = y + job.y - i32(p.pad);
  let sx = xf + job.z - i32(p.pad);
  let inside = sy >= 0 && sy < i32(p.height) && sx >= 0 && sx < i32(p.width) && u32(job.x) < p.images;
  var v = 0.0;
  if (inside) {
    v = data[u32(job.x) * image + c * plane + u32(sy) * p.width + u32(sx)];
  }
  out[i] = (v - p.mean[c]) * p.inv_std[c];
}
