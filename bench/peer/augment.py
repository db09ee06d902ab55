"""The augmentations of our recipes (src/data/policies.ts, src/data/augment.ts, shaders/augment.wgsl) in
PyTorch, for batches of 1-channel images in [0, 1].

Every geometric part of a view is ONE affine map in continuous pixel coordinates (pixel (x, y) covers
[x, x+1) x [y, y+1)), composed on the host in the order the ops apply, and sampled bilinearly through
its inverse with 0 outside the image (before normalisation): F.affine_grid / F.grid_sample with
align_corners=False is exactly that convention. The photometric ops then follow in their drawn order,
clamped to [0, 1] like torchvision on float tensors. Policies:
- crop-flip (CE recipes): pad by P and crop at an origin uniform in [0, 2P]^2, then a flip with p 1/2;
- SimAugment (contrastive views): RandomResizedCrop(scale [0.2, 1], ratio [3/4, 4/3]) resized bilinearly,
  flip p 1/2, ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8 (one channel: brightness and contrast, in a
  random order), RandomGrayscale p 0.2 (three channels only, so never here);
- RandAugment n = 2, m = 9 of 31 bins (BCL's classifier view): torchvision's 14 ops and magnitudes, the
  composed geometric map sampled first, then the photometric ops in drawn order (as ours).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

# ------------------------------------------------------------------------------------- affine maps
# 3x3 forward maps (input point -> output point); compose(after, before) applies `before` first.


def identity():
    return np.eye(3)


def compose(after, before):
    return after @ before


def translate(dx, dy):
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], dtype=np.float64)


def flip_x(width):
    return np.array([[-1, 0, width], [0, 1, 0], [0, 0, 1]], dtype=np.float64)


def pad_crop(pad, oy, ox):
    """Pad by `pad`, crop the original size at (oy, ox) of the padded image: the content shifts by (pad - ox, pad - oy)."""
    return translate(pad - ox, pad - oy)


def rotate(degrees, width, height):
    """Counter-clockwise as displayed (y points down), about the image centre."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    r = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
    return translate(width / 2, height / 2) @ r @ translate(-width / 2, -height / 2)


def shear(sx, sy):
    """x' = x + sx y, y' = y + sy x, about the origin (torchvision's RandAugment, as PIL)."""
    return np.array([[1, sx, 0], [sy, 1, 0], [0, 0, 1]], dtype=np.float64)


def resized_crop(top, left, h, w, width, height):
    """The window [top, top + h) x [left, left + w) stretched to the whole image."""
    return np.diag([width / w, height / h, 1.0]) @ translate(-left, -top)


def sample_resized_crop(g, width, height, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3)):
    """torchvision's RandomResizedCrop.get_params: 10 tries, else the central crop clamped to `ratio`."""
    area = width * height
    for _ in range(10):
        target = area * g.uniform(*scale)
        aspect = math.exp(g.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))  # round half to even, as Python's
        if 0 < w <= width and 0 < h <= height:
            return int(g.integers(height - h + 1)), int(g.integers(width - w + 1)), h, w
    w, h = width, height
    if width / height < ratio[0]:
        h = round(w / ratio[0])
    elif width / height > ratio[1]:
        w = round(h * ratio[1])
    return (height - h) // 2, (width - w) // 2, h, w


# --------------------------------------------------------------------------------------- the plans
# A plan per image: (forward affine 3x3, [(op, parameter), ...]).

def draw_crop_flip(g, pad, flip, width):
    m = pad_crop(pad, int(g.integers(2 * pad + 1)), int(g.integers(2 * pad + 1)))
    if flip and g.random() < 0.5:
        m = compose(flip_x(width), m)  # torchvision's order: crop, then flip
    return m, []


def draw_sim(g, width, height, channels):
    top, left, h, w = sample_resized_crop(g, width, height)
    m = resized_crop(top, left, h, w, width, height)
    if g.random() < 0.5:
        m = compose(flip_x(width), m)
    ops = []
    if g.random() < 0.8:
        # ColorJitter(0.4, 0.4, 0.4, 0.1).get_params: a random order, factors uniform in [0.6, 1.4], hue in [-0.1, 0.1].
        order = g.permutation(4)
        params = [g.uniform(0.6, 1.4), g.uniform(0.6, 1.4), g.uniform(0.6, 1.4), g.uniform(-0.1, 0.1)]
        kinds = ["brightness", "contrast", "saturation", "hue"]
        ops = [(kinds[k], params[k]) for k in order if channels == 3 or k < 2]
    if g.random() < 0.2 and channels == 3:
        ops.append(("grayscale", 0.0))
    return m, ops


RAND_AUGMENT_OPS = ["identity", "shearX", "shearY", "translateX", "translateY", "rotate", "brightness", "color",
                    "contrast", "sharpness", "posterize", "solarize", "autocontrast", "equalize"]
SIGNED = {"shearX", "shearY", "translateX", "translateY", "rotate", "brightness", "color", "contrast", "sharpness"}


def draw_randaugment(g, width, height, channels, n=2, m=9, bins=31):
    """torchvision's RandAugment: n ops uniformly from RAND_AUGMENT_OPS at magnitude bin m of `bins`,
    signed ops negated with p 1/2."""
    def level(top):
        return top * m / (bins - 1)

    affine, ops = identity(), []
    for _ in range(n):
        op = RAND_AUGMENT_OPS[int(g.integers(len(RAND_AUGMENT_OPS)))]
        sign = -1 if op in SIGNED and g.integers(2) else 1
        if op == "shearX":
            affine = compose(shear(sign * level(0.3), 0), affine)
        elif op == "shearY":
            affine = compose(shear(0, sign * level(0.3)), affine)
        elif op == "translateX":
            affine = compose(translate(sign * math.trunc(level(150 / 331 * width)), 0), affine)
        elif op == "translateY":
            affine = compose(translate(0, sign * math.trunc(level(150 / 331 * height))), affine)
        elif op == "rotate":
            affine = compose(rotate(sign * level(30), width, height), affine)
        elif op in ("brightness", "contrast", "sharpness"):
            ops.append((op, 1 + sign * level(0.9)))
        elif op == "color":
            if channels == 3:
                ops.append(("saturation", 1 + sign * level(0.9)))
        elif op == "posterize":
            ops.append(("posterize", 8 - round(m / ((bins - 1) / 4))))
        elif op == "solarize":
            ops.append(("solarize", 1 - level(1)))
        elif op in ("autocontrast", "equalize"):
            ops.append((op, 0.0))
    return affine, ops


def draw(policy, g, width, height, channels):
    if policy == "sim":
        return draw_sim(g, width, height, channels)
    if policy == "randaugment":
        return draw_randaugment(g, width, height, channels)
    raise ValueError("unknown policy %r" % policy)


# ------------------------------------------------------------------------------------- the pixels

def warp(x, forward_maps):
    """x [n, C, H, W] sampled through the inverses of `forward_maps` (n 3x3 maps), bilinear, 0 outside."""
    n, _, h, w = x.shape
    to_unit = np.array([[2 / w, 0, -1], [0, 2 / h, -1], [0, 0, 1]])  # pixel coordinates -> [-1, 1]
    theta = np.stack([to_unit @ np.linalg.inv(m) @ np.linalg.inv(to_unit) for m in forward_maps])[:, :2]
    grid = F.affine_grid(torch.as_tensor(theta, dtype=x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def quantise(v):
    """torchvision's float -> uint8 levels, floor(255.999 v)."""
    return (v.clamp(0, 1) * 255.999).floor().long()


def _gray_mean(v):
    return v.mean(dim=(1, 2, 3), keepdim=True) if v.shape[1] == 1 else (0.2989 * v[:, 0] + 0.587 * v[:, 1] + 0.114 * v[:, 2]).mean(dim=(1, 2), keepdim=True)[:, None]


def _sharpen(v, f):
    """adjust_sharpness: blend with the 3x3 blur [[1,1,1],[1,5,1],[1,1,1]] / 13, the 1-pixel border kept."""
    c = v.shape[1]
    kernel = torch.ones(c, 1, 3, 3, dtype=v.dtype)
    kernel[:, :, 1, 1] = 5
    blur = v.clone()
    blur[:, :, 1:-1, 1:-1] = F.conv2d(v, kernel / 13, groups=c)
    return (f * v + (1 - f) * blur).clamp(0, 1)


def _equalize(v):
    """PIL / torchvision equalisation of each channel of each image, on uint8 levels."""
    out = v.clone()
    for i in range(v.shape[0]):
        for c in range(v.shape[1]):
            q = quantise(v[i, c])
            hist = torch.bincount(q.flatten(), minlength=256)
            last = hist[hist.nonzero().max()]
            step = (q.numel() - int(last)) // 255
            if step == 0:
                continue
            before = torch.cumsum(hist, 0) - hist  # the shifted cumulative histogram
            lut = ((before + step // 2) // step).clamp(max=255)
            out[i, c] = lut[q].to(v.dtype) / 255
    return out


def photometric(v, kind, f):
    """One op on a batch v [n, C, H, W]; f: the op's parameter per image, [n] (unused by some)."""
    f4 = torch.as_tensor(f, dtype=v.dtype).view(-1, 1, 1, 1)
    if kind == "brightness":
        return (f4 * v).clamp(0, 1)
    if kind == "contrast":
        return (f4 * v + (1 - f4) * _gray_mean(v)).clamp(0, 1)
    if kind == "sharpness":
        return _sharpen(v, f4)
    if kind == "solarize":
        return torch.where(v >= f4, 1 - v, v)
    if kind == "posterize":
        keep = torch.as_tensor([(0xFF << (8 - int(b))) & 0xFF for b in f]).view(-1, 1, 1, 1)
        return (quantise(v) & keep).to(v.dtype) / 255
    if kind == "autocontrast":
        lo = v.amin(dim=(2, 3), keepdim=True)
        hi = v.amax(dim=(2, 3), keepdim=True)
        rng = hi - lo
        return torch.where(rng > 0, ((v - lo) / torch.where(rng > 0, rng, torch.ones_like(rng))).clamp(0, 1), v)
    if kind == "equalize":
        return _equalize(v)
    raise ValueError("photometric op %r needs 3-channel images, which the torch peer does not support" % kind)


def apply_plans(images, plans):
    """The batch of `plans` (one per row of `images` [n, C, H, W] in [0, 1]): warp, then the ops in order."""
    x = warp(images, [m for m, _ in plans])
    for k in range(max((len(ops) for _, ops in plans), default=0)):
        kinds = {ops[k][0] for _, ops in plans if len(ops) > k}
        for kind in sorted(kinds):
            rows = [i for i, (_, ops) in enumerate(plans) if len(ops) > k and ops[k][0] == kind]
            x[rows] = photometric(x[rows], kind, [plans[i][1][k][1] for i in rows])
    return x


class Augmenter:
    """The run's augmentations over one image set (float [N, C, H, W] in [0, 1]) and its normalisation."""

    def __init__(self, images, mean, std):
        self.images, self.mean, self.std = images, mean, std
        _, self.channels, self.height, self.width = images.shape

    def normalise(self, x):
        return (x - self.mean) / self.std

    def clean(self, rows):
        return self.normalise(self.images[rows])

    def crop_flip(self, rows, pad, flip, g):
        """The CE recipes' batch: pad-and-crop and flip per image."""
        plans = [draw_crop_flip(g, pad, flip, self.width) for _ in rows]
        return self.normalise(apply_plans(self.images[rows], plans))

    def views(self, rows, policies, g_for_view):
        """[V*B, C, H, W]: view v of image i at row v*B + i under policies[v]; g_for_view(v) is its generator."""
        out = []
        for v, policy in enumerate(policies):
            g = g_for_view(v)
            plans = [draw(policy, g, self.width, self.height, self.channels) for _ in rows]
            out.append(apply_plans(self.images[rows], plans))
        return self.normalise(torch.cat(out))
